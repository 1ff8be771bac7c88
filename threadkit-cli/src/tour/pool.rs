//! Thread pools and futures: `submit`/`result`, `as_completed`, `map`, and
//! the seeds' image download.

use std::time::Duration;

use super::report::secs;
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/pool_submit.rs"]
mod pool_submit;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/pool_as_completed.rs"]
mod pool_as_completed;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/pool_map.rs"]
mod pool_map;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/download_images/main.rs"]
mod download_images;

pub(crate) const LESSONS: [Lesson; 4] = [
    Lesson {
        name: "pool_submit",
        source: example_source!("pool_submit"),
        title: "ThreadPoolExecutor: submit() and result()",
        run: submit,
    },
    Lesson {
        name: "pool_as_completed",
        source: example_source!("pool_as_completed"),
        title: "as_completed(): results as tasks finish",
        run: as_completed,
    },
    Lesson {
        name: "pool_map",
        source: example_source!("pool_map"),
        title: "map(): results in input order",
        run: map,
    },
    Lesson {
        name: "download_images",
        source: example_source!("download_images/main"),
        title: "downloading images with a thread pool",
        run: download,
    },
];

fn submit(r: &mut Report) {
    let work = Duration::from_millis(500);
    let (results, took) = pool_submit::five_tasks(3, work);
    let expected: Vec<String> = (0..5).map(|i| format!("Task-{i} done")).collect();
    r.check_timed(
        "max_workers=3 runs 5 tasks in 2 rounds; result() returns each in submission order",
        results == expected && took >= work * 2,
        took < work * 3,
        format!("{} for 5 tasks of {} on 3 workers", secs(took), secs(work)),
    );
}

fn as_completed(r: &mut Report) {
    let unit = Duration::from_millis(200);
    let (order, took) = pool_as_completed::shortest_first(unit);
    // Every task once; the order they complete in is a matter of timing.
    let mut each = order.clone();
    each.sort_unstable();
    r.check_timed(
        "as_completed yields the 1-unit task first and the 5-unit task last; ~5 units in all",
        each == [1, 2, 3, 4, 5],
        order == [1, 2, 3, 4, 5] && took < unit * 7,
        format!(
            "completion order {order:?}, {} for units of {}",
            secs(took),
            secs(unit)
        ),
    );
}

fn map(r: &mut Report) {
    let unit = Duration::from_millis(200);
    let (results, finished, took) = pool_map::in_input_order(unit);
    r.check_timed(
        "map yields results in input order though the tasks finish shortest first",
        results == [5, 4, 3, 2, 1],
        finished == [1, 2, 3, 4, 5] && took < unit * 7,
        format!(
            "map gave {results:?}, tasks finished {finished:?}, {}",
            secs(took)
        ),
    );
}

fn download(r: &mut Report) {
    let (count, size, latency) = (12, 256 * 1024, Duration::from_millis(200));
    let (server, urls) = match download_images::serve(count, size, latency) {
        Ok(served) => served,
        Err(e) => return r.check("a loopback image server starts", false, e.to_string()),
    };
    let dir = std::env::temp_dir().join(format!("threadkit-tour-images-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return r.check("a folder for the images", false, e.to_string());
    }
    let seq = download_images::sequential(&urls, &dir);
    let pool = download_images::with_pool(&urls, &dir);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let total = count * size;
    let speedup = seq.took.as_secs_f64() / pool.took.as_secs_f64();
    r.check(
        "every image arrives whole, sequentially and through the pool",
        seq.errors.is_empty()
            && pool.errors.is_empty()
            && seq.bytes == total
            && pool.bytes == total,
        format!(
            "{} and {} of {total} bytes; errors {:?} {:?}",
            seq.bytes, pool.bytes, seq.errors, pool.errors
        ),
    );
    r.check_timed(
        "the pool overlaps the waits: several times faster (the tutorial: 23 s -> 5 s)",
        true,
        speedup >= 3.0,
        format!(
            "{count} images with {} latency: {} sequentially, {} with the pool ({speedup:.1}x)",
            secs(latency),
            secs(seq.took),
            secs(pool.took)
        ),
    );
}
