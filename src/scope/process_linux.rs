//! How a program the page runs is started and ended, below the scope's
//! rules (Linux).
//!
//! Threats: a program that forks (a shell's `&`, a daemon, a helper) and
//! leaves its children running after `shell.kill`, the end of its page
//! load or the app's exit, unseen by anyone, or that takes a child out of
//! its group on purpose; a program that inherits the app's open
//! descriptors (WebKit's sockets and `/proc` files, whatever the launcher
//! passed) and so can read or write what the app has open; and a program
//! that signals processes not its own (stops the app, kills the user's
//! editor).
//!
//! So every program starts as the leader of a process group of its own,
//! and is ended by signalling the whole group ([`Group`]); and in the
//! child, between `fork` and `exec`:
//! - every descriptor above 2 is marked close-on-exec, so the program
//!   starts with stdin, stdout and stderr only;
//! - a seccomp filter makes `setsid` and `setpgid` fail with `EPERM` for
//!   the program and everything it starts, so nothing it forks can leave
//!   the group and outlive it (a daemon's `setsid`, a shell's job
//!   control). The filter cannot be removed, and needs `no_new_privs`:
//!   a set-user-id program the page runs gains no privileges either.
//!   System calls of another architecture (32-bit or x32 on x86_64)
//!   fail with `EPERM`, as they could name the same calls by other
//!   numbers. A kernel that refuses the filter makes the program not
//!   start;
//! - a Landlock domain of its own scopes its signals (Landlock ABI 6): the
//!   program and what it starts may signal each other, not the app, the
//!   web process or any other process of the user's. The app still ends
//!   them (a signal into a nested domain is allowed). On an older kernel
//!   this step is skipped, as the rest of the kernel confinement degrades
//!   (`src/confine`); a kernel that knows the scope but refuses to apply
//!   it makes the program not start.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// Makes `command` start its program alone in a new process group with
/// only descriptors 0, 1 and 2 open, unable to leave the group, and
/// signalling only what it starts.
#[allow(
    unsafe_code,
    reason = "libc calls on a child's process group; each has its SAFETY comment"
)]
pub(crate) fn start_alone(command: &mut tokio::process::Command) {
    command.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls are allowed: it makes raw system calls
    // (`close_range`, `getrlimit`, `fcntl`, `prctl`) and touches no memory
    // but its own stack, no lock and no allocator (the error it may return
    // is built from an errno, without allocating).
    unsafe {
        command.pre_exec(|| {
            no_descriptors_past_stdio();
            stay_in_the_group()?;
            no_signals_out()
        });
    }
}

/// The audit architecture of this build's system calls (`linux/audit.h`).
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;
#[cfg(target_arch = "riscv64")]
const AUDIT_ARCH: u32 = 0xC000_00F3;

/// Installs the seccomp filter described in the module's doc: `setsid`
/// and `setpgid` (and every system call of another architecture, or
/// numbered in the x32 range) fail with `EPERM`; everything else is
/// allowed.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
#[allow(
    unsafe_code,
    reason = "libc calls on a child's process group; each has its SAFETY comment"
)]
fn stay_in_the_group() -> std::io::Result<()> {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    const fn stmt(code: u32, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        }
    }
    const fn jump(code: u32, k: u32, jt: u8) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt,
            jf: 0,
            k,
        }
    }
    // `struct seccomp_data`: the call's number at 0, its architecture at 4.
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    const DENY: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    let mut filter = [
        stmt(BPF_LD | BPF_W | BPF_ABS, ARCH),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH, 1),
        stmt(BPF_RET | BPF_K, DENY),
        stmt(BPF_LD | BPF_W | BPF_ABS, NR),
        jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 3),
        jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_setsid as u32, 2),
        jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_setpgid as u32, 1),
        stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ALLOW),
        stmt(BPF_RET | BPF_K, DENY),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as libc::c_ushort,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: `prctl` with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `program` points at `filter`, both on this stack and alive
    // for the call; the kernel copies the program before it returns.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &program as *const libc::sock_fprog,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// `struct landlock_ruleset_attr` (`linux/landlock.h`), up to `scoped`.
#[repr(C)]
struct LandlockRulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

/// `LANDLOCK_SCOPE_SIGNAL`, Landlock ABI 6.
const LANDLOCK_SCOPE_SIGNAL: u64 = 1 << 1;

/// Restricts the child to a Landlock domain that handles no access right
/// and scopes signals (see the module's doc). Runs after `no_new_privs`
/// is set ([`stay_in_the_group`]).
#[allow(
    unsafe_code,
    reason = "libc calls on a child's process group; each has its SAFETY comment"
)]
fn no_signals_out() -> std::io::Result<()> {
    let attr = LandlockRulesetAttr {
        handled_access_fs: 0,
        handled_access_net: 0,
        scoped: LANDLOCK_SCOPE_SIGNAL,
    };
    // SAFETY: `attr` is on this stack, alive for the call, and its size is
    // passed with it; the kernel copies it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const LandlockRulesetAttr,
            std::mem::size_of::<LandlockRulesetAttr>(),
            0 as libc::c_uint,
        )
    };
    let fd = match libc::c_int::try_from(fd) {
        Ok(fd) if fd >= 0 => fd,
        _ => return Ok(()), // a kernel before Landlock ABI 6 (or none)
    };
    // SAFETY: a raw system call with integer arguments only; `fd` is the
    // ruleset descriptor just created.
    let r = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0 as libc::c_uint) };
    let failed = (r != 0).then(std::io::Error::last_os_error);
    // SAFETY: `fd` is ours and closed once.
    unsafe {
        libc::close(fd);
    }
    failed.map_or(Ok(()), Err)
}

/// No filter is known for this architecture: no program starts.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
fn stay_in_the_group() -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Marks every descriptor above 2 close-on-exec: `close_range(3, ~0,
/// CLOSE_RANGE_CLOEXEC)` (Linux 5.11), or where the kernel lacks it, one
/// `fcntl` per possible descriptor up to the soft `RLIMIT_NOFILE` (at most
/// 65,536). Marking rather than closing keeps the standard library's own
/// pipe, which reports a failed `exec` to the parent, working until the
/// `exec`.
#[allow(
    unsafe_code,
    reason = "libc calls on a child's process group; each has its SAFETY comment"
)]
fn no_descriptors_past_stdio() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: a raw system call with integer arguments only.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return;
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes the struct we own, on our stack.
    let top = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur.min(1 << 16) as libc::c_int
    } else {
        1 << 16
    };
    for fd in 3..top {
        // SAFETY: `fcntl` on a descriptor number: one that is not open
        // fails with EBADF and changes nothing.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
}

/// The process groups of the programs running now, by leader pid.
static RUNNING: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

fn running() -> std::sync::MutexGuard<'static, BTreeSet<u32>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// A started program's process group: ended, as a whole, when this is
/// dropped (the call finished, failed, timed out or was dropped) and at
/// the app's exit ([`end_all`]).
#[derive(Debug)]
pub(crate) struct Group(u32);

impl Group {
    /// The group `child` leads (it was started by a command that went
    /// through [`start_alone`]). `None` if it has already been reaped.
    pub(crate) fn of(child: &tokio::process::Child) -> Option<Group> {
        let pid = child.id()?;
        running().insert(pid);
        Some(Group(pid))
    }

    /// Ends every process of the group now.
    pub(crate) fn end(&self) {
        end_group(self.0);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        end_group(self.0);
        running().remove(&self.0);
    }
}

/// The app is exiting: every program's whole group ends.
pub(crate) fn end_all() {
    for pid in running().iter() {
        end_group(*pid);
    }
}

/// Sends `SIGKILL` to every process of the group `pid` leads (what
/// [`start_alone`] started, and everything it forked that stayed in its
/// group). A group with no process left is not an error. The group's id
/// stays reserved while any member lives; once the whole group is gone
/// the kernel hands the id out again only after cycling through the rest
/// of the pid space, and every caller signals while the leader is running
/// or right after it was reaped.
#[allow(
    unsafe_code,
    reason = "libc calls on a child's process group; each has its SAFETY comment"
)]
fn end_group(pid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pgid <= 1 {
        return; // never "every process" (0) or init's group
    }
    // SAFETY: `killpg` takes two integers and no pointer.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

#[cfg(test)]
#[allow(
    unsafe_code,
    reason = "pre_exec closures and raw system calls in a test child; each has its SAFETY comment"
)]
mod tests {
    use std::os::unix::process::CommandExt as _;

    /// Starts `true` with `probe` run in the child, after the filter when
    /// `filtered`: the errno `probe` reports, if any.
    fn errno_in_child(filtered: bool, probe: fn() -> std::io::Result<()>) -> Option<i32> {
        match run_child(filtered, probe) {
            Ok(status) => {
                assert!(status.success());
                None
            }
            Err(e) => e.raw_os_error(),
        }
    }

    /// How the child of [`errno_in_child`] ended, or the errno its probe
    /// failed with.
    fn run_child(
        filtered: bool,
        probe: fn() -> std::io::Result<()>,
    ) -> std::io::Result<std::process::ExitStatus> {
        let mut command = std::process::Command::new("true");
        // SAFETY: the closure runs between fork and exec and makes raw
        // system calls only (see `start_alone`).
        unsafe {
            command.pre_exec(move || {
                if filtered {
                    super::stay_in_the_group()?;
                }
                probe()
            });
        }
        command.status()
    }

    fn setsid() -> std::io::Result<()> {
        // SAFETY: `setsid` takes no argument.
        if unsafe { libc::setsid() } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// `getpid` by its x32 number: another name for a call.
    #[cfg(target_arch = "x86_64")]
    fn x32_getpid() -> std::io::Result<()> {
        // SAFETY: a raw system call with no argument.
        if unsafe { libc::syscall(0x4000_0000 | libc::SYS_getpid) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// `setsid` through the 32-bit entry (`int 0x80`, i386's number 66):
    /// the same call by another architecture's number.
    #[cfg(target_arch = "x86_64")]
    fn i386_setsid() -> std::io::Result<()> {
        let mut eax: i32 = 66;
        // SAFETY: a system call with no argument and no memory operand;
        // the kernel's 32-bit entry returns in eax and may clear r8-r11,
        // which are declared clobbered.
        unsafe {
            std::arch::asm!(
                "int 0x80",
                inout("eax") eax,
                lateout("r8") _,
                lateout("r9") _,
                lateout("r10") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        if eax < 0 {
            return Err(std::io::Error::from_raw_os_error(-eax));
        }
        Ok(())
    }

    #[test]
    fn a_child_cannot_leave_its_group_under_the_filter() {
        // Not a group leader: without the filter it may start a session.
        assert_eq!(errno_in_child(false, setsid), None);
        assert_eq!(errno_in_child(true, setsid), Some(libc::EPERM));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_numbers_are_refused_under_the_filter() {
        // Without the filter: the pid, or ENOSYS where x32 is off.
        assert_ne!(errno_in_child(false, x32_getpid), Some(libc::EPERM));
        assert_eq!(errno_in_child(true, x32_getpid), Some(libc::EPERM));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_32_bit_entry_is_refused_under_the_filter() {
        // Without the filter the child starts a session by the 32-bit
        // number (the filter's own numbers are x86_64's, so only its
        // architecture check stands in the way). A kernel without 32-bit
        // emulation kills the child for `int 0x80`: nothing to refuse.
        match run_child(false, i386_setsid) {
            Ok(status) if status.success() => {}
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt as _;
                assert!(status.signal().is_some(), "{status}");
                eprintln!("no 32-bit system call entry here ({status}): skipped");
                return;
            }
            Err(e) => panic!("setsid by its i386 number failed unfiltered: {e}"),
        }
        assert_eq!(errno_in_child(true, i386_setsid), Some(libc::EPERM));
    }
}
