import glob, lrsde

# Simulate SGD on a noisy quadratic under a cosine schedule (the CLI's numbers, same seed).
sim = lrsde.simulate(model="nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1",
                     schedule="cosine:peak=0.5,steps=2000,warmup=20", paths=4096, seed=0)
print(sim.tail(1))

# Fit observed curves: files, or lrsde.Curve.from_dataframe(run.history(), step="_step", ...).
curves = [lrsde.read_curve(p) for p in sorted(glob.glob("fixtures/MultiPowerLaw/csv_400/*_24000.csv"))]
fit = lrsde.fit(curves)                         # law="auto": says in fit.report what it chose
print(fit.params)
wsd = lrsde.Schedule("wsd:peak=3e-4,steps=24000,warmup=2160")
print(fit.predict(wsd).tail(1))                 # step, lr, loss, loss_lo, loss_hi
print(fit.rank([wsd, "cosine:peak=3e-4,steps=24000,warmup=2160"]))
fit.save("fit.json")                            # the CLI reads it: lrsde predict --fit fit.json …
