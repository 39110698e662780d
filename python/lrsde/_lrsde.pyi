"""Type stubs of the lrsde extension module (re-exported by ``lrsde``)."""

from os import PathLike
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

# A DataFrame when pandas is installed, else a dict of numpy arrays (same columns).
Table = Any
ArrayLike = Union[Sequence[float], npt.NDArray[Any], Any]
PathType = Union[str, "PathLike[str]"]
ScheduleLike = Union["Schedule", str, "PathLike[str]"]
CurveLike = Union["Curve", str, "PathLike[str]"]

DEFAULT_LAW: str
DEFAULT_LOSS_COLUMNS: List[str]
__version__: str

class Schedule:
    """A learning-rate schedule: one LR per update (spec grammar ``family:key=value,…``)."""

    def __init__(self, spec: str) -> None: ...
    @staticmethod
    def from_array(lrs: ArrayLike) -> "Schedule": ...
    def lr(self) -> npt.NDArray[np.float64]: ...
    @property
    def steps(self) -> int: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...

class Curve:
    """An observed training curve: losses at some steps and the LR of every update."""

    def __init__(
        self,
        *,
        step: ArrayLike,
        loss: ArrayLike,
        lr: ArrayLike,
        batch: Optional[ArrayLike] = None,
        name: str = "curve",
    ) -> None: ...
    @staticmethod
    def from_dataframe(
        df: Union[Mapping[str, Any], Any],
        step: Optional[str] = None,
        loss: Optional[str] = None,
        lr: Optional[str] = None,
        batch: Optional[str] = None,
        name: Optional[str] = None,
    ) -> "Curve": ...
    @property
    def name(self) -> str: ...
    @property
    def steps(self) -> npt.NDArray[np.uint64]: ...
    @property
    def losses(self) -> npt.NDArray[np.float64]: ...
    @property
    def lrs(self) -> npt.NDArray[np.float64]: ...
    @property
    def batches(self) -> Optional[npt.NDArray[np.float64]]: ...
    def to_dataframe(self) -> Table: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...

class Fit:
    """A fitted loss law (``lrsde fit``); saves and loads the CLI's fit.json."""

    @property
    def law(self) -> str: ...
    @property
    def params(self) -> Dict[str, float]: ...
    @property
    def report(self) -> Dict[str, Any]: ...
    @property
    def converged(self) -> bool: ...
    def to_json(self) -> str: ...
    def save(self, path: PathType) -> None: ...
    def predict(
        self,
        schedule: ScheduleLike,
        *,
        steps: Optional[int] = None,
        batch_schedule: Optional[Union[ScheduleLike, ArrayLike]] = None,
    ) -> Table: ...
    def rank(
        self,
        schedules: Iterable[ScheduleLike],
        *,
        batch_schedule: Optional[Union[ScheduleLike, ArrayLike]] = None,
    ) -> Table: ...
    def validate(self, curves: Optional[Iterable[CurveLike]] = None) -> Table: ...
    def plot(
        self,
        schedules: Union[ScheduleLike, Iterable[ScheduleLike]],
        *,
        observed: Optional[Iterable[Curve]] = None,
        path: Optional[PathType] = None,
    ) -> Any: ...

def simulate(
    model: str = "nqm",
    schedule: Optional[ScheduleLike] = None,
    *,
    paths: int = 1024,
    method: str = "em",
    seed: int = 0,
    threads: Optional[int] = None,
    save_every: int = 10,
    substeps: int = 1,
    max_memory: float = 8.0,
    force: bool = False,
    batch_schedule: Optional[Union[ScheduleLike, ArrayLike]] = None,
) -> Table: ...
def read_curve(
    path: PathType, *, loss_column: Optional[str] = None, batch_column: Optional[str] = None
) -> Curve: ...
def fit(
    curves: Iterable[CurveLike],
    law: Optional[str] = None,
    *,
    seed: int = 0,
    max_iters: Optional[int] = None,
    level: float = 0.9,
    seed_noise: Optional[float] = None,
    prior: Optional[Union[PathType, Mapping[str, Any]]] = None,
    allow_unconverged: bool = False,
    weigh: str = "points",
) -> Fit: ...
def load_fit(path: PathType) -> Fit: ...
def steplaw(*, params: float, tokens: float) -> Dict[str, float]: ...
