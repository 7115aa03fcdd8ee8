//! Standard output and standard error without panics.
//!
//! `println!` panics when standard output is closed (`sijil show … | head`) or full
//! (`> /dev/full`); here a write returns its error instead. A reader that closed the pipe is
//! not a failure ([`Failure::stdout_closed`], exit 0, as with other Unix tools); any other write
//! error is reported (exit 2). A command that has already committed something (`append`)
//! handles the error itself, so that its message says what was committed.

use std::fmt;
use std::io::{self, Write as _};

use crate::Failure;

/// Writes `args` to standard output and flushes it.
///
/// # Errors
/// The write's error, as it is.
pub fn try_print(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)?;
    out.flush()
}

/// Writes `args` to standard output and flushes it.
///
/// # Errors
/// [`Failure::stdout_closed`] (exit 0, nothing printed) when the reader closed the pipe;
/// exit 2 naming standard output for any other write error.
pub fn print(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    try_print(args).map_err(stdout_failure)
}

/// The failure of a write to standard output: quiet for a closed pipe, exit 2 otherwise.
pub fn stdout_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::stdout_closed()
    } else {
        Failure::usage(anyhow::anyhow!("writing to standard output: {e}"))
    }
}

/// Writes `args` to standard error; a closed or full standard error is ignored (there is
/// nowhere left to say anything).
pub fn note(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.flush();
}

/// `println!` to standard output, returning `Result<(), Failure>` (see [`print`]).
macro_rules! outln {
    () => {
        $crate::output::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics (see [`note`]).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::note(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, outln};
