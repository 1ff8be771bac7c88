//! Fixed-work thread rows for before/after comparison (not committed).
use std::sync::Arc;
use std::time::Instant;
use threadkit::{Event, Queue, Semaphore};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let t = Instant::now();
    match which.as_str() {
        // single thread: deterministic instruction counts
        "sem1" => {
            let s = Semaphore::new(1);
            for _ in 0..2_000_000 {
                drop(std::hint::black_box(s.acquire()));
            }
        }
        "queue1" => {
            let q = Queue::new(1024);
            for i in 0..2_000_000u64 {
                q.put(i).unwrap();
                std::hint::black_box(q.get().unwrap());
            }
        }
        "spsc" => {
            let q = Arc::new(Queue::new(1024));
            let q2 = Arc::clone(&q);
            let c = std::thread::spawn(move || {
                for _ in 0..1_000_000u64 {
                    std::hint::black_box(q2.get().unwrap());
                }
            });
            for i in 0..1_000_000u64 {
                q.put(i).unwrap();
            }
            c.join().unwrap();
        }
        "event" => {
            let (a, b) = (Arc::new(Event::new()), Arc::new(Event::new()));
            let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
            let c = std::thread::spawn(move || {
                for _ in 0..20_000 {
                    a2.wait();
                    a2.clear();
                    b2.set();
                }
            });
            for _ in 0..20_000 {
                a.set();
                b.wait();
                b.clear();
            }
            c.join().unwrap();
        }
        _ => panic!("sem1|queue1|spsc|event"),
    }
    println!("{which} {:.3} ms", t.elapsed().as_secs_f64() * 1e3);
}
