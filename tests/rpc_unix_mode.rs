//! Unix-socket listeners get the permissions asked for (0600 by default)
//! whatever the umask. Its own process, because it sets the umask.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use nix::sys::stat::{umask, Mode};
use xipc::rpc::{Client, Protocol, Server};

const PROG: u32 = 0x2000_1236;

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Whether the user nobody may connect to the socket at `path`.
fn nobody_can_connect(path: &Path) -> bool {
    let status = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
        ])
        .arg("import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])")
        .arg(path)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("setpriv (util-linux) and /usr/bin/python3 (Debian python3) are needed");
    status.success()
}

#[test]
fn unix_sockets_get_the_asked_permissions_whatever_the_umask() {
    let dir = std::env::temp_dir().join(format!("xipc-rpc-mode-{}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o755).create(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cases = [
        // (umask, mode asked for or None for the default, expected mode)
        (0o000, None, 0o600),
        (0o077, None, 0o600),
        (0o000, Some(0o660), 0o660),
        (0o077, Some(0o666), 0o666),
        (0o022, Some(0o600), 0o600),
    ];
    for (i, (mask, mode, want)) in cases.into_iter().enumerate() {
        let old = umask(Mode::from_bits_truncate(mask));
        let path = dir.join(format!("s{i}.sock"));
        let s = Server::new();
        s.set_rpcbind_registration(false);
        s.register(PROG, 1, 1, |_, args, out| {
            out.put_raw(args);
            Ok(())
        });
        match mode {
            None => s.listen_unix(&path).unwrap(),
            Some(m) => s.listen_unix_with_mode(&path, m).unwrap(),
        }
        umask(old);
        assert_eq!(mode_of(&path), want, "umask {mask:o}, mode {mode:?}");
        s.start().unwrap();
        let c = Client::connect(path.to_str().unwrap(), 0, PROG, 1, Protocol::Unix).unwrap();
        c.ping().unwrap();
        assert_eq!(
            nobody_can_connect(&path),
            want & 0o006 == 0o006,
            "mode {want:o}"
        );
        s.stop();
        assert!(!path.exists());
    }
    std::fs::remove_dir(&dir).unwrap();
}
