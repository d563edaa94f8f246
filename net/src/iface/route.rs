//! The route table: a few static routes and a default gateway, for
//! destinations that are not on one of the interface's subnets.

use crate::wire::{Ipv4Address, Ipv4Cidr};

/// Static routes kept besides the default gateway.
pub const MAX_ROUTES: usize = 4;

/// Traffic to `cidr` goes through the router `via`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub cidr: Ipv4Cidr,
    pub via: Ipv4Address,
}

/// The route table is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutesFull;

/// Static routes and a default gateway.
#[derive(Debug, Clone, Copy, Default)]
pub struct Routes {
    routes: [Option<Route>; MAX_ROUTES],
    default_gateway: Option<Ipv4Address>,
}

impl Routes {
    /// No routes, no gateway.
    pub const fn new() -> Routes {
        Routes { routes: [None; MAX_ROUTES], default_gateway: None }
    }

    /// Adds a route, replacing one for the same prefix.
    pub fn add(&mut self, route: Route) -> Result<(), RoutesFull> {
        let same = |r: &Option<Route>| {
            r.is_some_and(|r| {
                r.cidr.network() == route.cidr.network() && r.cidr.prefix_len() == route.cidr.prefix_len()
            })
        };
        let slot = match self.routes.iter().position(same) {
            Some(i) => i,
            None => self.routes.iter().position(Option::is_none).ok_or(RoutesFull)?,
        };
        self.routes[slot] = Some(route);
        Ok(())
    }

    /// Removes the route for exactly this prefix; whether there was one.
    pub fn remove(&mut self, cidr: Ipv4Cidr) -> bool {
        for r in self.routes.iter_mut() {
            if r.is_some_and(|r| r.cidr.network() == cidr.network() && r.cidr.prefix_len() == cidr.prefix_len()) {
                *r = None;
                return true;
            }
        }
        false
    }

    /// Sets (or clears) the router of last resort.
    pub fn set_default_gateway(&mut self, gateway: Option<Ipv4Address>) {
        self.default_gateway = gateway;
    }

    /// The router of last resort.
    pub fn default_gateway(&self) -> Option<Ipv4Address> {
        self.default_gateway
    }

    /// The static routes.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().flatten()
    }

    /// The router for `dst`: the longest matching static route, else the
    /// default gateway.
    pub fn lookup(&self, dst: Ipv4Address) -> Option<Ipv4Address> {
        self.iter()
            .filter(|r| r.cidr.contains(dst))
            .max_by_key(|r| r.cidr.prefix_len())
            .map(|r| r.via)
            .or(self.default_gateway)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_then_default() {
        let gw = Ipv4Address::new(10, 0, 0, 1);
        let r1 = Ipv4Address::new(10, 0, 0, 2);
        let r2 = Ipv4Address::new(10, 0, 0, 3);
        let mut t = Routes::new();
        assert_eq!(t.lookup(Ipv4Address::new(8, 8, 8, 8)), None);
        t.set_default_gateway(Some(gw));
        t.add(Route { cidr: cidr("192.168.0.0/16"), via: r1 }).unwrap();
        t.add(Route { cidr: cidr("192.168.7.0/24"), via: r2 }).unwrap();
        assert_eq!(t.lookup(Ipv4Address::new(192, 168, 7, 9)), Some(r2));
        assert_eq!(t.lookup(Ipv4Address::new(192, 168, 8, 9)), Some(r1));
        assert_eq!(t.lookup(Ipv4Address::new(8, 8, 8, 8)), Some(gw));
        t.add(Route { cidr: cidr("192.168.7.99/24"), via: r1 }).unwrap();
        assert_eq!(t.iter().count(), 2, "same prefix replaced");
        assert!(t.remove(cidr("192.168.7.0/24")));
        assert!(!t.remove(cidr("192.168.7.0/24")));
        for i in 0..3 {
            t.add(Route { cidr: Ipv4Cidr::new(Ipv4Address::new(172, 16, i, 0), 24).unwrap(), via: r1 }).unwrap();
        }
        assert_eq!(t.add(Route { cidr: cidr("172.17.0.0/16"), via: r1 }), Err(RoutesFull));
    }
}
