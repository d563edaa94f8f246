//! Command-line options (no dependencies: a handful of `--name value` pairs).
use std::time::Duration;

pub const USAGE: &str = "usage: echo-check HOST [--port 7] [--bytes N] [--clients K] [--seed S] [--deadline SECONDS]";

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub host: String,
    pub port: u16,
    /// Bytes each client sends (and must get back).
    pub bytes: u64,
    pub clients: usize,
    pub seed: u64,
    /// For the whole run, connecting included.
    pub deadline: Duration,
}

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut host = None;
        let mut o = Options {
            host: String::new(),
            port: 7,
            bytes: 1 << 20,
            clients: 1,
            seed: 1,
            deadline: Duration::from_secs(60),
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--port" => o.port = number(&value("--port")?)?,
                "--bytes" => o.bytes = number(&value("--bytes")?)?,
                "--clients" => o.clients = number(&value("--clients")?)?,
                "--seed" => o.seed = number(&value("--seed")?)?,
                "--deadline" => {
                    let text = value("--deadline")?;
                    let seconds: f64 = text.parse().map_err(|_| format!("bad number of seconds: {text}"))?;
                    if !(seconds > 0.0 && seconds < 1e6) {
                        return Err(format!("deadline out of range: {text}"));
                    }
                    o.deadline = Duration::from_secs_f64(seconds);
                }
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                _ if host.is_none() => host = Some(arg),
                _ => return Err(format!("unexpected argument {arg}")),
            }
        }
        o.host = host.ok_or("no HOST given")?;
        if o.clients == 0 {
            return Err("--clients must be at least 1".into());
        }
        Ok(o)
    }
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("bad number: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_every_option() {
        let o = parse(&["10.0.0.2"]).unwrap();
        assert_eq!((o.host.as_str(), o.port, o.bytes, o.clients, o.seed), ("10.0.0.2", 7, 1 << 20, 1, 1));
        assert_eq!(o.deadline, Duration::from_secs(60));
        let o = parse(&[
            "--bytes",
            "67108864",
            "h",
            "--port",
            "9000",
            "--clients",
            "32",
            "--seed",
            "5",
            "--deadline",
            "2.5",
        ])
        .unwrap();
        assert_eq!((o.host.as_str(), o.port, o.bytes, o.clients, o.seed), ("h", 9000, 64 << 20, 32, 5));
        assert_eq!(o.deadline, Duration::from_millis(2500));
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["h", "--port"]).is_err());
        assert!(parse(&["h", "--port", "70000"]).is_err());
        assert!(parse(&["h", "--clients", "0"]).is_err());
        assert!(parse(&["h", "--deadline", "-1"]).is_err());
        assert!(parse(&["h", "--deadline", "nan"]).is_err());
        assert!(parse(&["h", "--frobnicate", "1"]).is_err());
        assert!(parse(&["h", "other"]).is_err());
    }
}
