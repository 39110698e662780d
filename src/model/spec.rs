//! The text form of models (`name:key=value,…`) and the one-time dispatch into generic code.

use std::fmt;
use std::str::FromStr;

use super::{
    Adam, AdamParams, DiffusionDerivative, Gbm, LossNoise, ModelError, Momentum, MomentumParams,
    Nqm, NqmDiffusion, NqmParams, Ou, QuadraticParams,
};

const KNOWN_MODELS: &str = "nqm, momentum, adam, lossnoise, ou, gbm";

/// A built-in model and its parameters, in the text form `name:key=value,…`.
///
/// | name | keys (defaults) |
/// |---|---|
/// | `nqm` | `dim=32,hmax=1,power=1,noise=1,batch=16,x0=1`, `diffusion=additive` (or `sqrt1px2`) |
/// | `momentum` | the six `nqm` numeric keys, `mu=0.9` |
/// | `adam` | the six `nqm` numeric keys, `beta1=0.9,beta2=0.999,eps=1e-8` |
/// | `lossnoise` | the six `nqm` numeric keys |
/// | `ou` | `theta=1,mu=0,sigma=1,x0=1` |
/// | `gbm` | `mu=1.01,sigma=0.87,x0=0.5` |
///
/// Omitted keys take their defaults; `nqm` alone is the default NQM. Names and keys are
/// lower-case; whitespace around names, keys and values is ignored. [`Display`](fmt::Display)
/// writes every numeric key (and `diffusion` when not `additive`) so that parsing the output
/// gives the same spec back. Parsing validates: errors name the model, key and value, and no
/// input string panics. Serde (de)serialises the spec as this string.
///
/// ```
/// use lrsde::model::ModelSpec;
/// let spec: ModelSpec = "nqm:dim=8,batch=4".parse().unwrap();
/// assert_eq!(spec.to_string(), "nqm:dim=8,hmax=1,power=1,noise=1,batch=4,x0=1");
/// assert_eq!(spec.to_string().parse::<ModelSpec>().unwrap(), spec);
/// let err = "nqm:dim=0".parse::<ModelSpec>().unwrap_err();
/// assert!(err.to_string().contains("`dim`"));
/// assert!("sgd".parse::<ModelSpec>().unwrap_err().to_string().contains("momentum"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelSpec {
    /// [`Nqm`].
    Nqm(NqmParams),
    /// [`Momentum`].
    Momentum(MomentumParams),
    /// [`Adam`].
    Adam(AdamParams),
    /// [`LossNoise`].
    LossNoise(QuadraticParams),
    /// [`Ou`].
    Ou(Ou),
    /// [`Gbm`].
    Gbm(Gbm),
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self::Nqm(NqmParams::default())
    }
}

/// Generic code to run on whichever model a [`ModelSpec`] names.
///
/// [`ModelSpec::with_model`] builds the concrete model and calls [`visit`](Self::visit) once, so
/// everything inside `visit` is monomorphised for that model: no dynamic dispatch per step.
///
/// ```
/// use lrsde::model::{DiffusionDerivative, ModelSpec, ModelVisitor};
/// struct Dim;
/// impl ModelVisitor for Dim {
///     type Output = usize;
///     fn visit<M: DiffusionDerivative>(self, model: &M) -> usize { model.dim() }
/// }
/// let spec: ModelSpec = "momentum:dim=4".parse().unwrap();
/// assert_eq!(spec.with_model(Dim).unwrap(), 8);
/// ```
pub trait ModelVisitor {
    /// What the visit returns.
    type Output;
    /// Runs on the concrete model.
    fn visit<M: DiffusionDerivative>(self, model: &M) -> Self::Output;
}

impl ModelSpec {
    /// The model's name in the spec grammar.
    ///
    /// ```
    /// assert_eq!(lrsde::model::ModelSpec::default().name(), "nqm");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Self::Nqm(_) => "nqm",
            Self::Momentum(_) => "momentum",
            Self::Adam(_) => "adam",
            Self::LossNoise(_) => "lossnoise",
            Self::Ou(_) => "ou",
            Self::Gbm(_) => "gbm",
        }
    }

    /// The model's `batch` key (the batch size its noise scale refers to), for the models whose
    /// gradient noise scales with 1/batch; `None` for `ou` and `gbm`.
    ///
    /// ```
    /// use lrsde::model::ModelSpec;
    /// assert_eq!("momentum:batch=64".parse::<ModelSpec>().unwrap().batch(), Some(64.0));
    /// assert_eq!("ou".parse::<ModelSpec>().unwrap().batch(), None);
    /// ```
    pub fn batch(&self) -> Option<f64> {
        match self {
            Self::Nqm(p) => Some(p.quad.batch),
            Self::Momentum(p) => Some(p.quad.batch),
            Self::Adam(p) => Some(p.quad.batch),
            Self::LossNoise(p) => Some(p.batch),
            Self::Ou(_) | Self::Gbm(_) => None,
        }
    }

    /// Builds the concrete model (validating its parameters) and runs `visitor` on it.
    ///
    /// ```
    /// use lrsde::model::{DiffusionDerivative, ModelSpec, ModelVisitor};
    /// struct Loss0;
    /// impl ModelVisitor for Loss0 {
    ///     type Output = f64;
    ///     fn visit<M: DiffusionDerivative>(self, m: &M) -> f64 {
    ///         let mut x = vec![0.0; m.dim()];
    ///         m.init(&mut x);
    ///         m.loss(&x)
    ///     }
    /// }
    /// let l = ModelSpec::default().with_model(Loss0).unwrap();
    /// assert!((l - 2.0292).abs() < 1e-4); // ½ Σ 1/(i+1), i < 32
    /// ```
    pub fn with_model<V: ModelVisitor>(&self, visitor: V) -> Result<V::Output, ModelError> {
        Ok(match self {
            Self::Nqm(p) => visitor.visit(&Nqm::new(*p)?),
            Self::Momentum(p) => visitor.visit(&Momentum::new(*p)?),
            Self::Adam(p) => visitor.visit(&Adam::new(*p)?),
            Self::LossNoise(p) => visitor.visit(&LossNoise::new(*p)?),
            Self::Ou(p) => {
                p.validate()?;
                visitor.visit(p)
            }
            Self::Gbm(p) => {
                p.validate()?;
                visitor.visit(p)
            }
        })
    }

    /// Checks every parameter.
    ///
    /// ```
    /// use lrsde::model::{ModelSpec, Ou};
    /// assert!(ModelSpec::Ou(Ou { theta: -1.0, ..Default::default() }).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Nqm(p) => p.quad.validate("nqm"),
            Self::Momentum(p) => Momentum::new(*p).map(|_| ()),
            Self::Adam(p) => Adam::new(*p).map(|_| ()),
            Self::LossNoise(p) => p.validate("lossnoise"),
            Self::Ou(p) => p.validate(),
            Self::Gbm(p) => p.validate(),
        }
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.name())?;
        match self {
            Self::Nqm(p) => {
                write!(f, "{}", p.quad)?;
                if p.diffusion != NqmDiffusion::Additive {
                    write!(f, ",diffusion={}", p.diffusion.as_str())?;
                }
                Ok(())
            }
            Self::Momentum(p) => write!(f, "{p}"),
            Self::Adam(p) => write!(f, "{p}"),
            Self::LossNoise(p) => write!(f, "{p}"),
            Self::Ou(p) => write!(f, "{p}"),
            Self::Gbm(p) => write!(f, "{p}"),
        }
    }
}

/// The `key=value` entries of one spec, checked against the model's keys.
pub(crate) struct Entries<'a> {
    model: &'static str,
    pairs: Vec<(&'static str, &'a str)>,
}

impl<'a> Entries<'a> {
    pub(crate) fn parse(
        model: &'static str,
        body: &'a str,
        keys: &[&'static str],
    ) -> Result<Self, ModelError> {
        let mut pairs: Vec<(&'static str, &'a str)> = Vec::new();
        if body.trim().is_empty() {
            return Ok(Self { model, pairs });
        }
        for entry in body.split(',') {
            let Some((k, v)) = entry.split_once('=') else {
                return Err(ModelError::Malformed {
                    model,
                    entry: entry.trim().to_owned(),
                });
            };
            let (k, v) = (k.trim(), v.trim());
            let Some(&key) = keys.iter().find(|known| **known == k) else {
                return Err(ModelError::UnknownKey {
                    model,
                    key: k.to_owned(),
                    known: keys.join(", "),
                });
            };
            if pairs.iter().any(|(seen, _)| *seen == key) {
                return Err(ModelError::DuplicateKey {
                    model,
                    key: key.to_owned(),
                });
            }
            pairs.push((key, v));
        }
        Ok(Self { model, pairs })
    }

    pub(crate) fn raw(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    pub(crate) fn f64(&self, key: &'static str, default: f64) -> Result<f64, ModelError> {
        match self.raw(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| ModelError::BadValue {
                    model: self.model,
                    key,
                    value: v.to_owned(),
                    expected: "a finite number",
                }),
        }
    }

    pub(crate) fn usize(&self, key: &'static str, default: usize) -> Result<usize, ModelError> {
        match self.raw(key) {
            None => Ok(default),
            Some(v) => v.parse::<usize>().map_err(|_| ModelError::BadValue {
                model: self.model,
                key,
                value: v.to_owned(),
                expected: "a non-negative integer",
            }),
        }
    }

    fn quad(&self) -> Result<QuadraticParams, ModelError> {
        let d = QuadraticParams::default();
        Ok(QuadraticParams {
            dim: self.usize("dim", d.dim)?,
            hmax: self.f64("hmax", d.hmax)?,
            power: self.f64("power", d.power)?,
            noise: self.f64("noise", d.noise)?,
            batch: self.f64("batch", d.batch)?,
            x0: self.f64("x0", d.x0)?,
        })
    }
}

fn keys_with(extra: &[&'static str]) -> Vec<&'static str> {
    QuadraticParams::KEYS.iter().chain(extra).copied().collect()
}

impl FromStr for ModelSpec {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ModelError::Empty {
                known: KNOWN_MODELS,
            });
        }
        let (name, body) = s.split_once(':').unwrap_or((s, ""));
        let spec = match name.trim() {
            "nqm" => {
                let e = Entries::parse("nqm", body, &keys_with(&["diffusion"]))?;
                let diffusion = match e.raw("diffusion") {
                    None | Some("additive") => NqmDiffusion::Additive,
                    Some("sqrt1px2") => NqmDiffusion::Sqrt1px2,
                    Some(v) => {
                        return Err(ModelError::BadValue {
                            model: "nqm",
                            key: "diffusion",
                            value: v.to_owned(),
                            expected: "`additive` or `sqrt1px2`",
                        });
                    }
                };
                Self::Nqm(NqmParams {
                    quad: e.quad()?,
                    diffusion,
                })
            }
            "momentum" => {
                let e = Entries::parse("momentum", body, &keys_with(&["mu"]))?;
                Self::Momentum(MomentumParams {
                    quad: e.quad()?,
                    mu: e.f64("mu", MomentumParams::default().mu)?,
                })
            }
            "adam" => {
                let e = Entries::parse("adam", body, &keys_with(&["beta1", "beta2", "eps"]))?;
                let d = AdamParams::default();
                Self::Adam(AdamParams {
                    quad: e.quad()?,
                    beta1: e.f64("beta1", d.beta1)?,
                    beta2: e.f64("beta2", d.beta2)?,
                    eps: e.f64("eps", d.eps)?,
                })
            }
            "lossnoise" => {
                let e = Entries::parse("lossnoise", body, &QuadraticParams::KEYS)?;
                Self::LossNoise(e.quad()?)
            }
            "ou" => {
                let e = Entries::parse("ou", body, &["theta", "mu", "sigma", "x0"])?;
                let d = Ou::default();
                Self::Ou(Ou {
                    theta: e.f64("theta", d.theta)?,
                    mu: e.f64("mu", d.mu)?,
                    sigma: e.f64("sigma", d.sigma)?,
                    x0: e.f64("x0", d.x0)?,
                })
            }
            "gbm" => {
                let e = Entries::parse("gbm", body, &["mu", "sigma", "x0"])?;
                let d = Gbm::default();
                Self::Gbm(Gbm {
                    mu: e.f64("mu", d.mu)?,
                    sigma: e.f64("sigma", d.sigma)?,
                    x0: e.f64("x0", d.x0)?,
                })
            }
            other => {
                return Err(ModelError::UnknownModel {
                    name: other.to_owned(),
                    known: KNOWN_MODELS,
                });
            }
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl serde::Serialize for ModelSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ModelSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// Keep the visitor bound honest: every built-in model must support Milstein.
const _: fn() = || {
    fn assert_dd<M: DiffusionDerivative>() {}
    assert_dd::<Nqm>();
    assert_dd::<Momentum>();
    assert_dd::<Adam>();
    assert_dd::<LossNoise>();
    assert_dd::<Ou>();
    assert_dd::<Gbm>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_round_trip() {
        let specs = [
            "nqm",
            "nqm:",
            "nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1",
            "nqm:diffusion=sqrt1px2,x0=0.25",
            "momentum:mu=0.5,dim=3",
            "adam:beta2=0.99,eps=1e-6",
            "lossnoise:noise=2",
            "ou:theta=2,mu=1,sigma=0.3,x0=-1",
            "gbm",
            "  gbm : mu = 0.5 , sigma = 0.1 ",
        ];
        for s in specs {
            let spec: ModelSpec = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            let again: ModelSpec = spec.to_string().parse().unwrap();
            assert_eq!(spec, again, "{s}");
        }
        assert_eq!(
            "nqm".parse::<ModelSpec>().unwrap().to_string(),
            "nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1"
        );
        assert_eq!("nqm".parse::<ModelSpec>().unwrap(), ModelSpec::default());
    }

    #[test]
    fn errors_name_key_and_value() {
        let cases = [
            ("", "empty"),
            ("sgd:dim=3", "unknown model `sgd`"),
            ("nqm:foo=1", "unknown key `foo`"),
            ("nqm:dim=3,dim=4", "`dim` given more than once"),
            ("nqm:dim", "entry `dim`"),
            ("nqm:dim=abc", "`dim` has bad value `abc`"),
            ("nqm:dim=-3", "`dim` has bad value `-3`"),
            ("nqm:dim=0", "`dim` = 0"),
            ("nqm:batch=0", "`batch` = 0"),
            ("nqm:batch=-1", "`batch` = -1"),
            ("nqm:hmax=nan", "`hmax` has bad value `nan`"),
            ("nqm:diffusion=cubic", "`diffusion` has bad value `cubic`"),
            ("momentum:mu=1", "`mu` = 1"),
            ("adam:eps=0", "`eps` = 0"),
            ("adam:beta2=1.5", "`beta2` = 1.5"),
            ("adam:beta1=1", "`beta1` = 1"),
            ("ou:sigma=-1", "`sigma` = -1"),
            ("gbm:theta=1", "unknown key `theta`"),
            ("lossnoise:mu=0.9", "unknown key `mu`"),
            ("nqm:dim=3,", "entry ``"),
        ];
        for (s, want) in cases {
            let msg = s.parse::<ModelSpec>().unwrap_err().to_string();
            assert!(msg.contains(want), "{s:?}: {msg}");
        }
    }

    #[test]
    fn serde_as_string() {
        let spec: ModelSpec = "momentum:mu=0.5".parse().unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.starts_with("\"momentum:"));
        let back: ModelSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
        assert!(serde_json::from_str::<ModelSpec>("\"nqm:dim=0\"").is_err());
    }
}
