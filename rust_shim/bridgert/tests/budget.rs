//! Allocation budgets from Rust (`with_budget`), alone in their own test
//! binary: a budget is per thread, and the tests check the thread's bytes.
use bridgert::{with_budget, Buffer, Status};

#[test]
fn a_budget_refuses_what_passes_it_and_reports_the_scope() {
    let ((kept, refused), report) = with_budget(64 * 1024, "rust scope", || {
        let kept = Buffer::new(60 * 1024).unwrap();
        let refused = Buffer::new(8 * 1024).unwrap_err();
        (kept, refused)
    })
    .unwrap();
    assert_eq!(refused.status(), Status::LimitExceeded, "{refused}");
    assert!(refused.message().contains("rust scope"), "{}", refused.message());
    assert!(refused.message().contains("65536"), "{}", refused.message());
    assert_eq!(report.refused, 1);
    assert!(report.used >= 60 * 1024 && report.peak >= 60 * 1024, "{report:?}");
    // The buffer outlives the scope, and the thread is unlimited again.
    assert_eq!(kept.as_slice().len(), 60 * 1024);
    drop(kept);
    drop(Buffer::new(16 << 20).unwrap());
}

#[test]
fn budgets_nest_and_end_even_when_the_scope_panics() {
    let (inner_error, outer) = with_budget(1 << 20, "outer", || {
        let caught = std::panic::catch_unwind(|| {
            with_budget(4096, "inner", || panic!("inside the inner scope")).unwrap();
        });
        assert!(caught.is_err());
        // The inner budget ended with the panic: only the outer one holds.
        let big = Buffer::new(512 * 1024).unwrap();
        let error = with_budget(4096, "inner again", || Buffer::new(8192).unwrap_err()).unwrap().0;
        drop(big);
        error
    })
    .unwrap();
    assert!(inner_error.message().contains("inner again"), "{}", inner_error.message());
    assert_eq!(outer.refused, 0);
}

#[test]
fn a_zero_limit_is_refused() {
    let error = with_budget(0, "zero", || ()).unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("limit of zero is 0"), "{}", error.message());
}
