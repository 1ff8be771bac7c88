//! 100 000 tasks each sleeping 0.5 s finish together in one `run`.

use std::time::{Duration, Instant};

use threadkit::asyncio;

#[test]
fn hundred_thousand_sleepers() {
    let n: usize = if cfg!(miri) { 10 } else { 100_000 };
    let start = Instant::now();
    let done = asyncio::run(async move {
        let results = asyncio::gather((0..n).map(|i| async move {
            asyncio::sleep(Duration::from_millis(500)).await;
            i
        }))
        .await
        .unwrap();
        results.len()
    })
    .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(done, n);
    assert!(elapsed >= Duration::from_millis(500));
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}
