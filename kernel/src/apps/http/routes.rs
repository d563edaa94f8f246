//! What the server serves: the built-in home page, `/stats` and `/metrics`.

use core::fmt;

use super::response::{APPLICATION_JSON, PROMETHEUS_TEXT, SERVER, TEXT_HTML};
use crate::apps::stats::{json, prometheus, StatsSource};
use crate::apps::writer::SliceWriter;

/// The home page, built into the image.
pub const HOME_PAGE: &str = include_str!("home.html");

/// A path this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Home,
    Stats,
    Metrics,
}

impl Route {
    /// The route for a request path (without query); paths match exactly.
    pub fn from_path(path: &[u8]) -> Option<Route> {
        match path {
            b"/" | b"/index.html" => Some(Route::Home),
            b"/stats" => Some(Route::Stats),
            b"/metrics" => Some(Route::Metrics),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Route::Home => TEXT_HTML,
            Route::Stats => APPLICATION_JSON,
            Route::Metrics => PROMETHEUS_TEXT,
        }
    }

    /// Whether the body is live data that caches must not keep.
    pub fn is_live(self) -> bool {
        !matches!(self, Route::Home)
    }

    /// Writes the body. Live pages that do not fit are cut cleanly by their
    /// renderers; an error means not even their fixed part fitted.
    pub fn write_body(self, source: &dyn StatsSource, w: &mut SliceWriter) -> fmt::Result {
        match self {
            Route::Home => w.write_bytes(HOME_PAGE.as_bytes()),
            Route::Stats => json::render(source, SERVER, w).map(drop),
            Route::Metrics => prometheus::render(source, crate::VERSION, w).map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::stats::fixture::FixedStats;

    #[test]
    fn paths_match_exactly() {
        assert_eq!(Route::from_path(b"/"), Some(Route::Home));
        assert_eq!(Route::from_path(b"/index.html"), Some(Route::Home));
        assert_eq!(Route::from_path(b"/stats"), Some(Route::Stats));
        assert_eq!(Route::from_path(b"/metrics"), Some(Route::Metrics));
        for other in [&b"/stats/"[..], b"/Stats", b"//", b"/metrics.txt", b""] {
            assert_eq!(Route::from_path(other), None);
        }
    }

    #[test]
    fn the_home_page_describes_the_appliance_and_links_the_data() {
        assert!(HOME_PAGE.starts_with("<!DOCTYPE html>"));
        assert!(HOME_PAGE.contains("<a href=\"/stats\">"));
        assert!(HOME_PAGE.contains("<a href=\"/metrics\">"));
        assert!(HOME_PAGE.contains("port 7"));
        assert!(HOME_PAGE.len() > 2000 && HOME_PAGE.len() < 8192);
        let mut buf = [0u8; 8192];
        let mut w = SliceWriter::new(&mut buf);
        Route::Home.write_body(&FixedStats::new(0), &mut w).unwrap();
        assert_eq!(w.written(), HOME_PAGE.as_bytes());
    }

    #[test]
    fn live_routes_render_their_format() {
        let mut buf = [0u8; 8192];
        let mut w = SliceWriter::new(&mut buf);
        Route::Stats.write_body(&FixedStats::new(1), &mut w).unwrap();
        assert!(w.written().starts_with(std::format!("{{\"server\":\"{SERVER}\",").as_bytes()));
        let mut w = SliceWriter::new(&mut buf);
        Route::Metrics.write_body(&FixedStats::new(1), &mut w).unwrap();
        assert!(w.written().starts_with(b"# HELP appliance_info "));
        assert_eq!((Route::Home.is_live(), Route::Stats.is_live(), Route::Metrics.is_live()), (false, true, true));
        assert_eq!(Route::Metrics.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    }
}
