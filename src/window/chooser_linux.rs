//! The file chooser on GTK: a `gtk::FileChooserDialog`, modal to the app's
//! window, built and answered on the GTK thread without a nested main loop
//! (its response signal answers).
//!
//! Not rfd: its GTK backend initialises and iterates GTK on a thread of its
//! own, beside the one tao runs GTK on (GTK is single-threaded), and its
//! portal backend needs xdg-desktop-portal, which a plain X session (and
//! Xvfb) does not have. gtk-rs, which tao and wry already build on, is used
//! directly instead.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use gtk::prelude::*;

use crate::api::dialog::{Answer, Chooser, DialogKind, DialogRequest};

thread_local! {
    /// Each open app window by label, the parent of its page's choosers
    /// (on the GTK thread).
    static PARENTS: RefCell<HashMap<String, gtk::Window>> = RefCell::new(HashMap::new());
}

/// Remembers window `label` as the parent of its page's choosers. On the
/// GTK thread.
pub(crate) fn remember_parent(label: &str, window: &tao::window::Window) {
    use tao::platform::unix::WindowExtUnix;
    let parent: gtk::Window = window.gtk_window().clone().upcast();
    PARENTS.with(|p| p.borrow_mut().insert(label.to_owned(), parent));
}

/// Window `label` has closed.
pub(crate) fn forget_parent(label: &str) {
    PARENTS.with(|p| p.borrow_mut().remove(label));
}

/// The chooser of window `label`: asks the GTK thread to show a dialog,
/// modal to that window, for each request.
pub(crate) fn chooser(label: &str) -> Chooser {
    let label = label.to_owned();
    Arc::new(move |request: DialogRequest, answer: Answer| {
        let label = label.clone();
        glib::MainContext::default().invoke(move || show(&label, request, answer));
    })
}

fn show(label: &str, request: DialogRequest, answer: Answer) {
    let parent = PARENTS.with(|p| p.borrow().get(label).cloned());
    let (action, title, accept) = match request.kind {
        DialogKind::OpenFile => (gtk::FileChooserAction::Open, "Open", "_Open"),
        DialogKind::OpenDirectory => (
            gtk::FileChooserAction::SelectFolder,
            "Choose a folder",
            "_Choose",
        ),
        DialogKind::Save => (gtk::FileChooserAction::Save, "Save", "_Save"),
    };
    let dialog = gtk::FileChooserDialog::with_buttons(
        Some(title),
        parent.as_ref(),
        action,
        &[
            ("_Cancel", gtk::ResponseType::Cancel),
            (accept, gtk::ResponseType::Accept),
        ],
    );
    dialog.set_modal(true);
    dialog.set_local_only(true);
    dialog.set_select_multiple(request.multiple && request.kind != DialogKind::Save);
    if request.kind == DialogKind::Save {
        dialog.set_do_overwrite_confirmation(true);
    }
    for f in &request.filters {
        let filter = gtk::FileFilter::new();
        filter.set_name(Some(&f.name));
        for ext in &f.extensions {
            filter.add_pattern(&format!("*.{ext}"));
        }
        dialog.add_filter(filter);
    }
    if let Some(p) = &request.default_path {
        if request.kind == DialogKind::Save && !p.is_dir() {
            if let Some(dir) = p.parent() {
                dialog.set_current_folder(dir);
            }
            if let Some(name) = p.file_name() {
                dialog.set_current_name(name.to_string_lossy().as_ref());
            }
        } else {
            dialog.set_current_folder(p);
        }
    }
    let answer = RefCell::new(Some(answer));
    dialog.connect_response(move |d, response| {
        let picked = (response == gtk::ResponseType::Accept).then(|| d.filenames());
        if let Some(answer) = answer.borrow_mut().take() {
            answer(picked);
        }
        d.close();
    });
    dialog.show();
}
