"""Fit.plot: predicted curves with their bands, observed curves, and the LR panel (matplotlib).

Drawing only: every number comes from Fit.predict and the curves themselves.
"""


def plot_fit(fit, schedules, observed=None, path=None):
    """Draw the predictions of ``schedules`` (and the ``observed`` curves) from ``fit``."""
    try:
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Fit.plot needs matplotlib: pip install matplotlib (or pip install lrsde[plot])"
        ) from e
    if isinstance(schedules, (str, bytes)) or not hasattr(schedules, "__iter__"):
        schedules = [schedules]
    fig, (ax, ax_lr) = plt.subplots(
        2, 1, sharex=True, figsize=(8, 6), gridspec_kw={"height_ratios": [3, 1]}
    )
    for schedule in schedules:
        pred = fit.predict(schedule)
        label = str(schedule)
        step, loss = _col(pred, "step"), _col(pred, "loss")
        (line,) = ax.plot(step, loss, label=label)
        ax.fill_between(
            step, _col(pred, "loss_lo"), _col(pred, "loss_hi"), color=line.get_color(), alpha=0.2
        )
        ax_lr.plot(step, _col(pred, "lr"), color=line.get_color())
    for curve in observed or []:
        ax.plot(curve.steps, curve.losses, ".", markersize=3, label=f"{curve.name} (observed)")
    ax.set_ylabel("loss")
    ax.set_title(f"Predicted loss ({fit.law} law)")
    ax.legend(fontsize="small")
    ax_lr.set_ylabel("LR")
    ax_lr.set_xlabel("step")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def _col(table, name):
    values = table[name]
    return values.to_numpy() if hasattr(values, "to_numpy") else values
