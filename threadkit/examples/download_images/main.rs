//! Lesson: downloading images with a thread pool — the tutorials' real-world
//! example, against a loopback server this lesson starts itself (with a
//! delay per request standing in for the network).
//!
//! Tutorial: "Real-World Example: Downloading Images Using Threads" ("23s → 5s"):
//!
//! ```python
//! def download_image(img_url):
//!     img_bytes = requests.get(img_url).content
//!     img_name = f'{img_url.split("/")[3]}.jpg'
//!     with open(img_name, 'wb') as img_file:
//!         img_file.write(img_bytes)
//!     print(f'{img_name} was downloaded...')
//!
//! with concurrent.futures.ThreadPoolExecutor() as executor:
//!     executor.map(download_image, img_urls)
//! ```
//!
//! Run: `cargo run --release --example download_images`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use threadkit::futures::ThreadPoolExecutor;

#[path = "http.rs"]
mod http;

pub use http::ImageServer;

/// What one way of downloading did.
#[derive(Debug)]
pub struct Downloaded {
    /// Bytes written to disk, over all images.
    pub bytes: usize,
    /// Images that failed, with why.
    pub errors: Vec<String>,
    /// Wall time.
    pub took: Duration,
}

/// The tutorial's `download_image`: fetch, then write `img-N.jpg` into `dir`.
pub fn download_image(url: &str, dir: &Path) -> Result<usize, String> {
    let img_bytes = http::get(url)?;
    let name = url.rsplit('/').next().unwrap_or("img");
    let path = dir.join(format!("img-{name}.jpg"));
    std::fs::write(&path, &img_bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{} was downloaded...", path.display());
    Ok(img_bytes.len())
}

fn tally(results: impl Iterator<Item = Result<usize, String>>, start: Instant) -> Downloaded {
    let (mut bytes, mut errors) = (0, Vec::new());
    for r in results {
        match r {
            Ok(n) => bytes += n,
            Err(e) => errors.push(e),
        }
    }
    Downloaded {
        bytes,
        errors,
        took: start.elapsed(),
    }
}

/// One image after the other.
pub fn sequential(urls: &[String], dir: &Path) -> Downloaded {
    let start = Instant::now();
    tally(urls.iter().map(|u| download_image(u, dir)), start)
}

/// `executor.map(download_image, img_urls)` on a default-sized pool.
pub fn with_pool(urls: &[String], dir: &Path) -> Downloaded {
    let start = Instant::now();
    let executor = ThreadPoolExecutor::default();
    let dir: PathBuf = dir.to_owned();
    let results = executor.map(move |url: String| download_image(&url, &dir), urls.to_vec());
    match results {
        Ok(results) => tally(results.map(|r| r.map_err(|e| e.to_string())?), start),
        Err(e) => tally(std::iter::once(Err(e.to_string())), start),
    }
}

/// Serves `count` images of `size` bytes with `latency` per request.
pub fn serve(
    count: usize,
    size: usize,
    latency: Duration,
) -> std::io::Result<(ImageServer, Vec<String>)> {
    let images = (0..count).map(|i| vec![i as u8; size]).collect();
    let server = ImageServer::start(images, latency)?;
    let urls = (0..count).map(|i| server.url(i)).collect();
    Ok((server, urls))
}

#[allow(dead_code)]
fn main() {
    let (_server, urls) =
        serve(12, 200 * 1024, Duration::from_millis(500)).expect("start the loopback server");
    let dir = std::env::temp_dir().join("threadkit-download-images");
    std::fs::create_dir_all(&dir).expect("a folder for the images");
    let seq = sequential(&urls, &dir);
    let pool = with_pool(&urls, &dir);
    println!(
        "sequential: {:.2} s; ThreadPoolExecutor: {:.2} s",
        seq.took.as_secs_f64(),
        pool.took.as_secs_f64()
    );
}
