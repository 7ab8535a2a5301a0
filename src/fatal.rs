//! Last resorts: whatever kills the process (a panic, a signal, llama.cpp aborting) first gives
//! the terminal back and says what happened.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

type Restore = fn();

static RESTORE: Mutex<Option<Restore>> = Mutex::new(None);
static RESTORED: AtomicBool = AtomicBool::new(false);

/// Registers how to give the terminal back (the studio sets this while it owns the screen).
pub fn set_terminal_restore(restore: Option<Restore>) {
    if let Ok(mut slot) = RESTORE.lock() {
        *slot = restore;
    }
    RESTORED.store(false, Ordering::SeqCst);
}

/// Restores the terminal once, if a restore is registered. Safe to call from any thread.
pub fn restore_terminal() {
    if RESTORED.swap(true, Ordering::SeqCst) {
        return;
    }
    // try_lock: never deadlock on a path that may run while the lock is held.
    if let Ok(slot) = RESTORE.try_lock() {
        if let Some(restore) = *slot {
            restore();
        }
    }
}

/// A panic on any thread restores the terminal, prints the panic, and ends the process: a
/// half-alive studio whose worker died is worse than a clean exit.
pub fn install_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!("panic: {info}");
        default_hook(info);
        std::process::exit(101);
    }));
}

extern "C" fn on_ggml_abort(message: *const std::os::raw::c_char) {
    let text = if message.is_null() {
        String::from("(no message)")
    } else {
        // SAFETY: ggml passes a NUL-terminated message that lives for this call.
        unsafe { std::ffi::CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    };
    restore_terminal();
    tracing::error!("llama.cpp aborted: {text}");
    eprintln!("refrain: llama.cpp aborted: {}", text.trim());
}

/// ggml calls this just before it aborts the process.
pub fn install_ggml_abort_callback() {
    // SAFETY: the callback is a plain function that lives for the whole program.
    unsafe {
        llama_cpp_sys_2::ggml_set_abort_callback(Some(on_ggml_abort));
    }
}
