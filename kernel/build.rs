//! Links the image with the project's linker script at the board's load
//! address, and records the git revision for the banner.
use std::process::Command;

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "none" {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let load_address =
            if std::env::var_os("CARGO_FEATURE_BOARD_RPI4").is_some() { "0x80000" } else { "0x40200000" };
        println!("cargo:rustc-link-arg-bins=-T{}", root.join("linker.ld").display());
        println!("cargo:rustc-link-arg-bins=--defsym=BOARD_LOAD_ADDR={load_address}");
        println!("cargo:rerun-if-changed=../linker.ld");
        println!("cargo:rerun-if-changed=../boot/entry.S");
        println!("cargo:rerun-if-changed=../boot/vectors.S");
    }
    let revision = Command::new("git")
        .args(["describe", "--always", "--dirty", "--exclude", "*"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown revision".into());
    println!("cargo:rustc-env=APPLIANCE_GIT_REVISION={revision}");
    // Where HEAD is (a worktree's .git is a file pointing elsewhere); a
    // path that does not exist would rerun this script on every build.
    let head = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", "--git-path", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| std::path::Path::new(s).exists());
    match head {
        Some(head) => println!("cargo:rerun-if-changed={head}"),
        None => println!("cargo:rerun-if-changed=build.rs"),
    }
}
