//! Where the appliance's IPv4 address comes from: a static address from
//! the bootargs, or DHCP with a static fallback when no lease arrives in
//! time (QEMU user networking's 10.0.2.15/24 by default). A lease that
//! arrives later replaces the fallback.
use log::info;
use net::iface::Interface;
use net::time::Instant;
use net::wire::{Ipv4Address, Ipv4Cidr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPlan {
    Static,
    /// DHCP is running; the fallback applies at `deadline` if no lease.
    DhcpWaiting {
        deadline: Instant,
        fallback: Ipv4Cidr,
        gateway: Ipv4Address,
    },
    /// The fallback is in use while DHCP keeps trying.
    Fallback {
        address: Ipv4Cidr,
    },
    /// A lease is (or was) in use; DHCP owns the address from now on.
    Dhcp {
        reported: Option<Ipv4Cidr>,
    },
}

impl AddressPlan {
    pub fn dhcp(deadline: Instant, fallback: Ipv4Cidr, gateway: Ipv4Address) -> AddressPlan {
        AddressPlan::DhcpWaiting { deadline, fallback, gateway }
    }

    pub fn configure_static(iface: &mut Interface, cidr: Ipv4Cidr, gateway: Option<Ipv4Address>) {
        match iface.add_address(cidr) {
            Ok(()) => info!("network: static address {cidr}, gateway {}", display_gateway(gateway)),
            Err(e) => log::error!("network: static address {cidr} refused: {e:?}"),
        }
        iface.set_default_gateway(gateway);
    }

    /// When the plan next needs attention.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            AddressPlan::DhcpWaiting { deadline, .. } => Some(*deadline),
            AddressPlan::Static | AddressPlan::Fallback { .. } | AddressPlan::Dhcp { .. } => None,
        }
    }

    /// Follows DHCP's progress: logs a new lease, applies the fallback when
    /// the deadline passes, drops the fallback (and its gateway) once a
    /// lease arrives. `dhcp_router` is the router the lease names.
    pub fn update(&mut self, now: Instant, iface: &mut Interface, dhcp_router: Option<Ipv4Address>) {
        match *self {
            AddressPlan::Static => {}
            AddressPlan::DhcpWaiting { deadline, fallback, gateway } => {
                let lease = iface.addresses().next();
                if let Some(lease) = lease {
                    info!("network: DHCP address {lease}, gateway {}", display_gateway(iface.default_gateway()));
                    *self = AddressPlan::Dhcp { reported: Some(lease) };
                } else if now >= deadline {
                    info!("network: no DHCP answer; using fallback {fallback}, gateway {gateway} (DHCP keeps trying)");
                    AddressPlan::configure_static(iface, fallback, Some(gateway));
                    *self = AddressPlan::Fallback { address: fallback };
                }
            }
            AddressPlan::Fallback { address } => {
                let lease = iface.addresses().find(|a| *a != address);
                if let Some(lease) = lease {
                    iface.remove_address(address.address());
                    // The fallback's gateway was set by us, not by DHCP, so
                    // the interface's DHCP glue leaves it: replace it here.
                    iface.set_default_gateway(dhcp_router);
                    info!(
                        "network: DHCP address {lease}, gateway {} (replacing the fallback {address})",
                        display_gateway(iface.default_gateway())
                    );
                    *self = AddressPlan::Dhcp { reported: Some(lease) };
                }
            }
            AddressPlan::Dhcp { reported } => {
                let current = iface.addresses().next();
                if current != reported {
                    match current {
                        Some(lease) => info!("network: DHCP address now {lease}"),
                        None => info!("network: DHCP lease lost; no address"),
                    }
                    *self = AddressPlan::Dhcp { reported: current };
                }
            }
        }
    }
}

fn display_gateway(gateway: Option<Ipv4Address>) -> impl core::fmt::Display {
    struct Gateway(Option<Ipv4Address>);
    impl core::fmt::Display for Gateway {
        fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
            match self.0 {
                Some(g) => write!(f, "{g}"),
                None => f.write_str("none"),
            }
        }
    }
    Gateway(gateway)
}
