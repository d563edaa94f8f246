//! The kernel command line (`/chosen/bootargs`, QEMU's `-append`):
//! whitespace-separated `key=value` words. A bad value never stops the
//! boot: it leaves the default in place and is reported as a [`Problem`].
//!
//! | word | meaning | default |
//! |---|---|---|
//! | `ip=dhcp` / `ip=A.B.C.D/N` | address by DHCP, or static | `dhcp` |
//! | `gw=A.B.C.D` | default gateway for a static address | none |
//! | `ip6=slaac` / `ip6=ADDR/N` | IPv6 address by SLAAC, or static (the link-local address is always there) | `slaac` |
//! | `gw6=ADDR` | IPv6 default router (link-local or global unicast) | none: learnt from router advertisements |
//! | `log=error\|warn\|info\|debug\|trace\|off` | log level | `info` |
//! | `exit=semihosting` | QEMU runs with `-semihosting`: power-off carries the exit status | PSCI only |
//! | `selftest=boot\|timer\|fault\|panic\|nic` | run a kernel self-test, then power off (tests only) | none |
use log::LevelFilter;
use net::wire::{Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr};

/// How the interface gets its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressMode {
    Dhcp,
    Static(Ipv4Cidr),
}

/// How the interface gets its global IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address6Mode {
    /// Stateless autoconfiguration from router advertisements (RFC 4862).
    Slaac,
    Static(Ipv6Cidr),
}

/// Kernel self-tests run instead of the appliance (for `scripts/test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfTest {
    /// Boot, print the banner, power off with success.
    Boot,
    /// Arm timer deadlines and check each interrupt arrives on time.
    Timer,
    /// Touch an unmapped address: the exception handler must report it.
    Fault,
    /// Panic: the panic handler must report message and location.
    Panic,
    /// Exchange ARP with QEMU's user-mode gateway (10.0.2.2) through the
    /// NIC driver and its interrupt.
    Nic,
}

/// Why a word was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem<'a> {
    /// `key=value` with a value the key does not take.
    BadValue { key: &'a str, value: &'a str },
    /// A key this kernel does not know.
    UnknownKey(&'a str),
    /// More problems than could be recorded.
    TooMany,
}

impl core::fmt::Display for Problem<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            Problem::BadValue { key, value } => write!(f, "bootarg {key}={value:?}: invalid value, using the default"),
            Problem::UnknownKey(word) => write!(f, "bootarg {word:?}: unknown, ignored"),
            Problem::TooMany => f.write_str("more bootarg problems than shown"),
        }
    }
}

const MAX_PROBLEMS: usize = 8;

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootArgs<'a> {
    pub address: AddressMode,
    pub gateway: Option<Ipv4Address>,
    pub address6: Address6Mode,
    pub gateway6: Option<Ipv6Address>,
    pub log_level: LevelFilter,
    pub semihosting_exit: bool,
    pub selftest: Option<SelfTest>,
    /// Whether the NIC's checksum and segmentation offloads are used
    /// (`offload=off` turns them off, to compare).
    pub offload: bool,
    problems: [Option<Problem<'a>>; MAX_PROBLEMS],
}

impl Default for BootArgs<'_> {
    fn default() -> Self {
        BootArgs {
            address: AddressMode::Dhcp,
            gateway: None,
            address6: Address6Mode::Slaac,
            gateway6: None,
            log_level: LevelFilter::Info,
            semihosting_exit: false,
            selftest: None,
            offload: true,
            problems: [None; MAX_PROBLEMS],
        }
    }
}

impl<'a> BootArgs<'a> {
    /// Parses `line`; never fails (see [`BootArgs::problems`]).
    pub fn parse(line: &'a str) -> BootArgs<'a> {
        let mut args = BootArgs::default();
        for word in line.split_ascii_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                args.report(Problem::UnknownKey(word));
                continue;
            };
            let ok = match key {
                "ip" => parse_address_mode(value).map(|m| args.address = m).is_some(),
                "gw" => value.parse().ok().filter(Ipv4Address::is_unicast).map(|g| args.gateway = Some(g)).is_some(),
                "ip6" => parse_address6_mode(value).map(|m| args.address6 = m).is_some(),
                "gw6" => value.parse().ok().filter(Ipv6Address::is_unicast).map(|g| args.gateway6 = Some(g)).is_some(),
                "log" => parse_level(value).map(|l| args.log_level = l).is_some(),
                "exit" => (value == "semihosting").then(|| args.semihosting_exit = true).is_some(),
                "selftest" => parse_selftest(value).map(|t| args.selftest = Some(t)).is_some(),
                "offload" => parse_switch(value).map(|on| args.offload = on).is_some(),
                _ => {
                    args.report(Problem::UnknownKey(word));
                    continue;
                }
            };
            if !ok {
                args.report(Problem::BadValue { key, value });
            }
        }
        args
    }

    fn report(&mut self, problem: Problem<'a>) {
        match self.problems.iter_mut().find(|p| p.is_none()) {
            Some(slot) => *slot = Some(problem),
            None => self.problems[MAX_PROBLEMS - 1] = Some(Problem::TooMany),
        }
    }

    /// What was wrong with the line, in order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem<'a>> {
        self.problems.iter().flatten()
    }
}

fn parse_address_mode(value: &str) -> Option<AddressMode> {
    if value == "dhcp" {
        return Some(AddressMode::Dhcp);
    }
    let cidr: Ipv4Cidr = value.parse().ok()?;
    (cidr.address().is_unicast() && (1..=32).contains(&cidr.prefix_len())).then_some(AddressMode::Static(cidr))
}

/// `slaac`, or a unicast address with a prefix of 1 to 128 bits.
fn parse_address6_mode(value: &str) -> Option<Address6Mode> {
    if value == "slaac" {
        return Some(Address6Mode::Slaac);
    }
    let cidr: Ipv6Cidr = value.parse().ok()?;
    (cidr.address().is_unicast() && (1..=128).contains(&cidr.prefix_len())).then_some(Address6Mode::Static(cidr))
}

fn parse_switch(value: &str) -> Option<bool> {
    match value {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

fn parse_level(value: &str) -> Option<LevelFilter> {
    Some(match value {
        "off" => LevelFilter::Off,
        "error" => LevelFilter::Error,
        "warn" => LevelFilter::Warn,
        "info" => LevelFilter::Info,
        "debug" => LevelFilter::Debug,
        "trace" => LevelFilter::Trace,
        _ => return None,
    })
}

fn parse_selftest(value: &str) -> Option<SelfTest> {
    Some(match value {
        "boot" => SelfTest::Boot,
        "timer" => SelfTest::Timer,
        "fault" => SelfTest::Fault,
        "panic" => SelfTest::Panic,
        "nic" => SelfTest::Nic,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn empty_line_gives_defaults() {
        let args = BootArgs::parse("");
        assert_eq!(args, BootArgs::default());
        assert_eq!(args.address, AddressMode::Dhcp);
        assert_eq!(args.log_level, LevelFilter::Info);
        assert_eq!(args.problems().count(), 0);
    }

    #[test]
    fn static_address_gateway_and_level() {
        let args = BootArgs::parse("ip=10.0.2.15/24  gw=10.0.2.2 log=debug exit=semihosting offload=off");
        assert!(!args.offload);
        let cidr = Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24).unwrap();
        assert_eq!(args.address, AddressMode::Static(cidr));
        assert_eq!(args.gateway, Some(Ipv4Address::new(10, 0, 2, 2)));
        assert_eq!(args.log_level, LevelFilter::Debug);
        assert!(args.semihosting_exit);
        assert_eq!(args.problems().count(), 0);
    }

    #[test]
    fn bad_values_keep_defaults_and_are_reported() {
        let args =
            BootArgs::parse("ip=10.0.2.300/24 gw=224.0.0.1 log=loud exit=psci selftest=nope ip=0.0.0.0/8 offload=0");
        assert!(args.offload);
        assert_eq!(args.address, AddressMode::Dhcp);
        assert_eq!(args.gateway, None);
        assert_eq!(args.log_level, LevelFilter::Info);
        assert!(!args.semihosting_exit);
        assert_eq!(args.selftest, None);
        let keys: Vec<_> = args
            .problems()
            .map(|p| match p {
                Problem::BadValue { key, .. } => *key,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(keys, ["ip", "gw", "log", "exit", "selftest", "ip", "offload"]);
        assert_eq!(
            args.problems().next().unwrap().to_string(),
            "bootarg ip=\"10.0.2.300/24\": invalid value, using the default"
        );
    }

    #[test]
    fn unknown_words_are_reported_not_fatal() {
        let args = BootArgs::parse("console=ttyAMA0 quiet ip=dhcp");
        let problems: Vec<_> = args.problems().copied().collect();
        assert_eq!(problems, [Problem::UnknownKey("console=ttyAMA0"), Problem::UnknownKey("quiet")]);
        assert_eq!(args.address, AddressMode::Dhcp);
    }

    #[test]
    fn problem_list_is_bounded() {
        let line = "a b c d e f g h i j k";
        let args = BootArgs::parse(line);
        assert_eq!(args.problems().count(), MAX_PROBLEMS);
        assert_eq!(args.problems().last(), Some(&Problem::TooMany));
    }

    #[test]
    fn selftests() {
        assert_eq!(BootArgs::parse("selftest=timer").selftest, Some(SelfTest::Timer));
        assert_eq!(BootArgs::parse("selftest=fault").selftest, Some(SelfTest::Fault));
        assert_eq!(BootArgs::parse("selftest=boot").selftest, Some(SelfTest::Boot));
        assert_eq!(BootArgs::parse("selftest=panic").selftest, Some(SelfTest::Panic));
        assert_eq!(BootArgs::parse("selftest=nic").selftest, Some(SelfTest::Nic));
    }

    #[test]
    fn ipv6_static_address_and_router() {
        let args = BootArgs::parse("ip6=2001:db8:1::15/64 gw6=fe80::1");
        let cidr = Ipv6Cidr::new(Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x15), 64).unwrap();
        assert_eq!(args.address6, Address6Mode::Static(cidr));
        assert_eq!(args.gateway6, Some(Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)));
        assert_eq!(args.problems().count(), 0);
        // The IPv4 settings are untouched, and the reverse.
        assert_eq!((args.address, args.gateway), (AddressMode::Dhcp, None));
        let v4 = BootArgs::parse("ip=10.0.2.15/24");
        assert_eq!((v4.address6, v4.gateway6), (Address6Mode::Slaac, None));
        assert_eq!(BootArgs::parse("ip6=2001:db8::1/64 ip6=slaac").address6, Address6Mode::Slaac);
        let host = BootArgs::parse("ip6=2001:db8::1/128").address6;
        assert_eq!(
            host,
            Address6Mode::Static(Ipv6Cidr::new(Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 128).unwrap())
        );
    }

    #[test]
    fn ipv6_bad_values_keep_defaults_and_are_reported() {
        let bad = [
            "ip6=2001:db8::1",
            "ip6=2001:db8::1/129",
            "ip6=2001:db8::1/0",
            "ip6=ff02::1/64",
            "ip6=::/64",
            "ip6=::1/128",
            "ip6=2001:db8::g/64",
            "ip6=10.0.2.15/24",
            "ip6=dhcp",
            "ip6=",
            "gw6=ff02::2",
            "gw6=::",
            "gw6=10.0.2.2",
            "gw6=fe80::1%eth0",
            "gw6=",
        ];
        for word in bad {
            let args = BootArgs::parse(word);
            assert_eq!((args.address6, args.gateway6), (Address6Mode::Slaac, None), "{word}");
            let (key, value) = word.split_once('=').unwrap();
            let problems: Vec<_> = args.problems().copied().collect();
            assert_eq!(problems, [Problem::BadValue { key, value }], "{word}");
        }
        assert_eq!(
            BootArgs::parse("ip6=2001:db8::1").problems().next().unwrap().to_string(),
            "bootarg ip6=\"2001:db8::1\": invalid value, using the default"
        );
        // A bad value after a good one leaves the good one.
        let args = BootArgs::parse("ip6=2001:db8::1/64 ip6=nonsense");
        assert!(matches!(args.address6, Address6Mode::Static(_)));
    }

    #[test]
    fn last_value_wins() {
        let args = BootArgs::parse("log=warn log=error");
        assert_eq!(args.log_level, LevelFilter::Error);
    }
}
