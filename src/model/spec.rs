//! The text form of models (`name:key=value,…`) and the one-time dispatch into generic code.

use std::fmt;
use std::str::FromStr;

use crate::spec::{self, Entries, SpecError, Tokens};

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
/// Omitted keys take their defaults; `nqm` alone is the default NQM. Names, keys and the
/// rest of the text follow the one rule set of [`crate::spec`] (ASCII case-insensitive names and
/// keys, whitespace and empty entries ignored, duplicates an error). [`Display`](fmt::Display)
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
            Self::Nqm(p) => Ok(p.quad.validate("nqm")?),
            Self::Momentum(p) => Momentum::new(*p).map(|_| ()),
            Self::Adam(p) => Adam::new(*p).map(|_| ()),
            Self::LossNoise(p) => Ok(p.validate("lossnoise")?),
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

impl ModelError {
    /// A tokenizer error as the model error that names `model`.
    pub(crate) fn from_spec(model: &'static str, e: SpecError) -> Self {
        match e {
            SpecError::Empty => Self::Empty {
                known: KNOWN_MODELS,
            },
            SpecError::Malformed { entry, .. } | SpecError::EmptyValue { entry, .. } => {
                Self::Malformed { model, entry }
            }
            SpecError::UnknownKey { key, allowed, .. } => Self::UnknownKey {
                model,
                key,
                known: allowed,
            },
            SpecError::DuplicateKey { key, .. } => Self::DuplicateKey {
                model,
                key: key.to_owned(),
            },
            SpecError::MissingKey { key } => Self::BadValue {
                model,
                key,
                value: String::new(),
                expected: "a value (the key is required)",
            },
            SpecError::BadValue {
                key,
                value,
                expected,
                ..
            } => Self::BadValue {
                model,
                key,
                value,
                expected,
            },
        }
    }
}

/// A model's checked entries, read with its defaults; errors name the model.
pub(crate) struct ModelEntries<'a> {
    model: &'static str,
    entries: Entries<'a>,
}

impl<'a> ModelEntries<'a> {
    pub(crate) fn new(
        model: &'static str,
        tokens: &Tokens<'a>,
        keys: &[&'static str],
    ) -> Result<Self, ModelError> {
        let entries = tokens
            .entries(keys)
            .map_err(|e| ModelError::from_spec(model, e))?;
        Ok(Self { model, entries })
    }

    pub(crate) fn raw(&self, key: &str) -> Option<&'a str> {
        self.entries.raw(key)
    }

    fn wrap<T>(&self, r: Result<Option<T>, SpecError>, default: T) -> Result<T, ModelError> {
        r.map(|v| v.unwrap_or(default))
            .map_err(|e| ModelError::from_spec(self.model, e))
    }

    pub(crate) fn f64(&self, key: &'static str, default: f64) -> Result<f64, ModelError> {
        self.wrap(self.entries.finite(key), default)
    }

    pub(crate) fn usize(&self, key: &'static str, default: usize) -> Result<usize, ModelError> {
        self.wrap(self.entries.usize(key), default)
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

/// The built-in model `text` names, for errors found before its name is read.
fn model_named(text: &str) -> &'static str {
    let head = text.split(':').next().unwrap_or_default().trim();
    ["nqm", "momentum", "adam", "lossnoise", "ou", "gbm"]
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(head))
        .unwrap_or("?")
}

fn keys_with(extra: &[&'static str]) -> Vec<&'static str> {
    QuadraticParams::KEYS.iter().chain(extra).copied().collect()
}

impl FromStr for ModelSpec {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let tokens = spec::tokenize(s).map_err(|e| ModelError::from_spec(model_named(s), e))?;
        let entries = |model, keys: &[&'static str]| ModelEntries::new(model, &tokens, keys);
        let spec = match tokens.name.as_str() {
            "nqm" => {
                let e = entries("nqm", &keys_with(&["diffusion"]))?;
                let diffusion = e
                    .wrap(
                        e.entries.choice(
                            "diffusion",
                            &["additive", "sqrt1px2"],
                            "`additive` or `sqrt1px2`",
                        ),
                        "additive",
                    )
                    .map(|d| match d {
                        "sqrt1px2" => NqmDiffusion::Sqrt1px2,
                        _ => NqmDiffusion::Additive,
                    })?;
                Self::Nqm(NqmParams {
                    quad: e.quad()?,
                    diffusion,
                })
            }
            "momentum" => {
                let e = entries("momentum", &keys_with(&["mu"]))?;
                Self::Momentum(MomentumParams {
                    quad: e.quad()?,
                    mu: e.f64("mu", MomentumParams::default().mu)?,
                })
            }
            "adam" => {
                let e = entries("adam", &keys_with(&["beta1", "beta2", "eps"]))?;
                let d = AdamParams::default();
                Self::Adam(AdamParams {
                    quad: e.quad()?,
                    beta1: e.f64("beta1", d.beta1)?,
                    beta2: e.f64("beta2", d.beta2)?,
                    eps: e.f64("eps", d.eps)?,
                })
            }
            "lossnoise" => {
                let e = entries("lossnoise", &QuadraticParams::KEYS)?;
                Self::LossNoise(e.quad()?)
            }
            "ou" => {
                let e = entries("ou", &["theta", "mu", "sigma", "x0"])?;
                let d = Ou::default();
                Self::Ou(Ou {
                    theta: e.f64("theta", d.theta)?,
                    mu: e.f64("mu", d.mu)?,
                    sigma: e.f64("sigma", d.sigma)?,
                    x0: e.f64("x0", d.x0)?,
                })
            }
            "gbm" => {
                let e = entries("gbm", &["mu", "sigma", "x0"])?;
                let d = Gbm::default();
                Self::Gbm(Gbm {
                    mu: e.f64("mu", d.mu)?,
                    sigma: e.f64("sigma", d.sigma)?,
                    x0: e.f64("x0", d.x0)?,
                })
            }
            _ => {
                return Err(ModelError::UnknownModel {
                    name: tokens.raw_name.to_owned(),
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
            "NQM:Dim=3,",
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
            ("nqm:dim=", "entry `dim=`"),
            ("nqm:=3", "entry `=3`"),
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
