//! The command line, `<mode> [--port N] [--data DIR] [--chain-url URL] [--bind IP]`, and the
//! environment (`CHAIN_URL`, `LAB_APP_VERSION`), checked into `Args`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use crate::client::ChainUrl;
use crate::error::Error;

/// Where lab-chain answers when neither `--chain-url` nor `CHAIN_URL` says otherwise.
pub const DEFAULT_CHAIN_URL: &str = "http://127.0.0.1:18443/";
/// The version reported when `LAB_APP_VERSION` is unset (the image `localhost/lab-app:latest`).
pub const DEFAULT_VERSION: &str = "1";
/// The usage line printed on a bad command line.
pub const USAGE: &str = "usage: fixture-app <chain|wallet|index|explorer|chain-ui> [--port N] [--data DIR] [--chain-url URL] [--bind IP]";

/// Which app the binary plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// lab-chain (bitcoin-knots).
    Chain,
    /// lab-wallet (lnd).
    Wallet,
    /// lab-index (electrumx).
    Index,
    /// lab-explorer (mempool).
    Explorer,
    /// lab-chain-ui (bitcoin UI companion).
    ChainUi,
}

impl Mode {
    const ALL: [Self; 5] = [
        Self::Chain,
        Self::Wallet,
        Self::Index,
        Self::Explorer,
        Self::ChainUi,
    ];

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == name)
    }

    /// The mode's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chain => "chain",
            Self::Wallet => "wallet",
            Self::Index => "index",
            Self::Explorer => "explorer",
            Self::ChainUi => "chain-ui",
        }
    }

    /// The port the mode listens on by default.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Chain => 18443,
            Self::Wallet => 18080,
            Self::Index => 50001,
            Self::Explorer => 18090,
            Self::ChainUi => 18091,
        }
    }
}

/// A checked command line.
#[derive(Debug, PartialEq)]
pub struct Args {
    /// The app to play.
    pub mode: Mode,
    /// The address to listen on (all addresses by default; tests use loopback).
    pub bind: IpAddr,
    /// The port to listen on; 0 picks a free one.
    pub port: u16,
    /// The chain's data directory (other modes ignore it).
    pub data: PathBuf,
    /// lab-chain's JSON-RPC URL (the chain itself ignores it).
    pub chain_url: ChainUrl,
    /// The version every mode reports (`getinfo`, index's `version`, chain-ui's `/version`).
    pub version: String,
}

/// The environment variables the app reads.
#[derive(Debug, Default)]
pub struct Env<'a> {
    /// `CHAIN_URL`: lab-chain's JSON-RPC URL, unless `--chain-url` says otherwise.
    pub chain_url: Option<&'a str>,
    /// `LAB_APP_VERSION`: the version to report (the `:v2` image sets it to "2").
    pub version: Option<&'a str>,
}

/// Parses the arguments after the program name, with the environment's defaults.
pub fn parse(argv: &[String], env: &Env) -> Result<Args, Error> {
    let (mode, mut rest) = match argv.split_first() {
        Some((mode, rest)) => (mode, rest.iter()),
        None => return Err(Error::Usage("no mode given".into())),
    };
    let mode = Mode::parse(mode).ok_or_else(|| Error::Usage(format!("unknown mode {mode:?}")))?;
    let version = env.version.unwrap_or(DEFAULT_VERSION);
    if version.is_empty() || version.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Usage(format!("bad LAB_APP_VERSION: {version:?}")));
    }
    let mut args = Args {
        mode,
        bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: mode.default_port(),
        data: PathBuf::from("/data"),
        chain_url: ChainUrl::parse(env.chain_url.unwrap_or(DEFAULT_CHAIN_URL))?,
        version: version.to_string(),
    };
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| Error::Usage(format!("{flag} needs a value")))?;
        let bad = || Error::Usage(format!("bad value for {flag}: {value:?}"));
        match flag.as_str() {
            "--port" => args.port = value.parse().map_err(|_| bad())?,
            "--bind" => args.bind = value.parse().map_err(|_| bad())?,
            "--data" => args.data = PathBuf::from(value),
            "--chain-url" => args.chain_url = ChainUrl::parse(value)?,
            _ => return Err(Error::Usage(format!("unknown option {flag:?}"))),
        }
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn defaults_follow_the_mode() {
        let args = parse(&argv("chain"), &Env::default()).unwrap();
        assert_eq!(
            args,
            Args {
                mode: Mode::Chain,
                bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port: 18443,
                data: PathBuf::from("/data"),
                chain_url: ChainUrl::parse(DEFAULT_CHAIN_URL).unwrap(),
                version: "1".into(),
            }
        );
        let ports: Vec<u16> = ["wallet", "index", "explorer", "chain-ui"]
            .iter()
            .map(|mode| parse(&argv(mode), &Env::default()).unwrap().port)
            .collect();
        assert_eq!(ports, [18080, 50001, 18090, 18091]);
    }

    #[test]
    fn flags_override_env_and_defaults() {
        let env = Env {
            chain_url: Some("http://127.0.0.2:1/"),
            version: Some("2"),
        };
        let args = parse(&argv("wallet"), &env).unwrap();
        assert_eq!(
            (args.chain_url.to_string(), args.version),
            ("http://127.0.0.2:1/".into(), "2".into())
        );
        let args = parse(
            &argv("wallet --chain-url http://127.0.0.3:2/ --port 0 --data /d --bind 127.0.0.1"),
            &env,
        )
        .unwrap();
        assert_eq!(args.chain_url.to_string(), "http://127.0.0.3:2/");
        assert_eq!(
            (args.port, args.data, args.bind.to_string()),
            (0, PathBuf::from("/d"), "127.0.0.1".into())
        );
    }

    #[test]
    fn bad_command_lines_are_refused() {
        let err = |line: &str| parse(&argv(line), &Env::default()).unwrap_err().to_string();
        assert_eq!(err(""), "no mode given");
        assert_eq!(err("miner"), "unknown mode \"miner\"");
        assert_eq!(err("chain --port"), "--port needs a value");
        assert_eq!(err("chain --port x"), "bad value for --port: \"x\"");
        assert_eq!(err("chain --verbose 1"), "unknown option \"--verbose\"");
        let version = |v| {
            let env = Env {
                chain_url: None,
                version: Some(v),
            };
            parse(&argv("chain"), &env).unwrap_err().to_string()
        };
        assert_eq!(version(""), "bad LAB_APP_VERSION: \"\"");
        assert_eq!(version("2 beta"), "bad LAB_APP_VERSION: \"2 beta\"");
    }
}
