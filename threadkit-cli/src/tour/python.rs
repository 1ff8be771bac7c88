//! The Python each lesson mirrors, from the tutorials, shown by
//! `threadkit tour --show-source` beside the lesson's Rust. Short excerpts,
//! kept here so the tour needs no file at run time.

/// The Python of the lesson `name` (empty for an unknown name).
pub(crate) fn snippet(name: &str) -> &'static str {
    match name {
        "arguments" => {
            r#"def greet(name, delay):
    time.sleep(delay)
    print(f"Hello, {name}!")

t1 = threading.Thread(target=greet, args=("Alice", 2))
t2 = threading.Thread(target=greet, args=("Bob", 1))
t1.start(); t2.start()
t1.join(); t2.join()        # Bob greets first"#
        }
        "asyncio_fetch" => {
            r#"async def fetch(session, url):
    async with session.get(url) as response:
        return await response.text()

async def main(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch(session, u) for u in urls))"#
        }
        "asyncio_gather" => {
            r#"async def fetch_data(n):
    await asyncio.sleep(2)
    return n

async def main():
    results = await asyncio.gather(*(fetch_data(i) for i in range(5)))
    print(results)          # [0, 1, 2, 3, 4] after ~2 s, not 10 s

asyncio.run(main())"#
        }
        "asyncio_mixed" => {
            r#"async def main():
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor() as pool:
        results = await asyncio.gather(
            *(loop.run_in_executor(pool, cpu_bound, n) for n in inputs))"#
        }
        "bounded_buffer" => {
            r#"def put(self, item):
    with self.condition:
        while len(self.buffer) >= self.size:
            self.condition.wait()  # Wait for space
        self.buffer.append(item)
        self.condition.notify_all()  # Notify consumers"#
        }
        "daemon" => {
            r#"def counter():
    for i in range(5):
        print(i)
        time.sleep(1)

# join: main waits at join(), then ends
t1 = threading.Thread(target=counter)  # Non-Daemon Thread
t1.start(); t1.join(); print("main Ends")

# no join: "main Ends" first, yet Python waits for the thread at exit
t1 = threading.Thread(target=counter)
t1.start(); print("main Ends")

# daemon: the program exits with main; the counter is cut short
t1 = threading.Thread(target=counter, daemon=True)
t1.start(); print("main Ends")"#
        }
        "deadlock" => {
            r#"def thread1():
    with lock1:
        time.sleep(0.1)
        with lock2:  # May deadlock if thread2 has lock2
            ...
def thread2():
    with lock2:
        time.sleep(0.1)
        with lock1:  # May deadlock if thread1 has lock1
            ..."#
        }
        "download_images" => {
            r#"def download_image(img_url):
    img_bytes = requests.get(img_url).content
    img_name = f'{img_url.split("/")[3]}.jpg'
    with open(img_name, 'wb') as img_file:
        img_file.write(img_bytes)
    print(f'{img_name} was downloaded...')

with concurrent.futures.ThreadPoolExecutor() as executor:
    executor.map(download_image, img_urls)"#
        }
        "enumerate_threads" => {
            r#"for t in threading.enumerate():        # Lists active threads
    print(t.name, t.ident)
print(threading.active_count())
threading.settrace(func)               # Hooks into thread execution"#
        }
        "gil" => {
            r#"def cpu_intensive_task():
    total = 0
    for i in range(10**7):
        total += i

threads = [threading.Thread(target=cpu_intensive_task) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()   # the GIL: no faster than running them in turn"#
        }
        "green" => GEVENT_WORKERS,
        "hello_thread" => {
            r#"def greet():
    print("Hello from a thread!")

t = threading.Thread(target=greet)
t.start()
print("Hello from main thread")
t.join()"#
        }
        "lifecycle" => {
            r#"print("Before starting:", t.is_alive())  # False
t.start()
print("After starting:", t.is_alive())   # True
t.join()
print("After join:", t.is_alive())       # False"#
        }
        "many_threads" => {
            r#"threads = []
for i in range(5):
    t = threading.Thread(target=worker, args=(i,))
    threads.append(t)
    t.start()
for t in threads:
    t.join()"#
        }
        "outgrow_one_machine" => {
            r#"# Dask: the same concurrent.futures shape, run by workers on many
# hosts (each started with `dask worker tcp://scheduler:8786`).
from concurrent.futures import as_completed
from dask.distributed import Client

executor = Client("tcp://scheduler:8786").get_executor()
futures = [executor.submit(cpu_intensive_task, 10**7 + i) for i in range(24)]
for f in as_completed(futures):   # a killed worker's tasks re-run elsewhere
    print(f.result())"#
        }
        "pool_as_completed" => {
            r#"with concurrent.futures.ThreadPoolExecutor() as executor:
    secs = [5, 4, 3, 2, 1]
    results = [executor.submit(do_something, sec) for sec in secs]
    for f in concurrent.futures.as_completed(results):
        print(f.result())"#
        }
        "pool_map" => {
            r#"with concurrent.futures.ThreadPoolExecutor() as executor:
    secs = [5, 4, 3, 2, 1]
    results = executor.map(do_something, secs)
    for result in results:
        print(result)"#
        }
        "pool_submit" => {
            r#"with ThreadPoolExecutor(max_workers=3) as executor:
    futures = [executor.submit(task, f"Task-{i}") for i in range(5)]
    for future in futures:
        print("Result:", future.result())"#
        }
        "port_asyncio" => {
            r#"async def main():
    name, items = await asyncio.gather(user(), posts())
    try:
        await asyncio.wait_for(slow(), timeout=0.1)
    except TimeoutError:
        timed_out = True
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(posts())
        b = tg.create_task(asyncio.to_thread(blocking_sum, 1000))
    return name, items, timed_out, len(a.result()), b.result()"#
        }
        "port_pool" => {
            r#"with ThreadPoolExecutor(max_workers=4) as pool:
    futs = {pool.submit(work, i): i for i in range(5)}   # work(3) raises, work(4) is slow
    try:
        for f in as_completed(futs, timeout=0.5):
            try:
                print(futs[f], "->", f.result())
            except ValueError as e:
                print(futs[f], "failed:", e)
    except TimeoutError:
        print("timed out waiting for", [futs[f] for f in futs if not f.done()])"#
        }
        "port_producer_consumer" => {
            r#"q = queue.Queue(maxsize=3); stop = threading.Event(); lock = threading.Lock()

def consumer():
    while not stop.is_set():
        try:
            item = q.get(timeout=0.05)
        except queue.Empty:
            continue
        with lock:
            processed.append(item * item)
        q.task_done()

for item in range(10):
    q.put(item)
q.join(); stop.set()"#
        }
        "process_pool" => {
            r#"# do_some_heavy_computation(n): CPU-bound work (the lesson counts the primes below n)
with concurrent.futures.ProcessPoolExecutor() as executor:
    results = executor.map(do_some_heavy_computation, data_list)"#
        }
        "process_start_join" => {
            r#"def cpu_task(n):
    total = sum(i * i for i in range(n))

p1 = multiprocessing.Process(target=cpu_task, args=(N,))
p2 = multiprocessing.Process(target=cpu_task, args=(N,))
p1.start(); p2.start()
p1.join(); p2.join()"#
        }
        "producer_consumer" => {
            r#"def consumer(q, consumer_id):
    while True:
        item = q.get()
        if item is None:
            q.put(None)  # Re-queue sentinel for other consumers
            break
        print(f"Consumer {consumer_id} processing: {item}")
        q.task_done()
# ...
producer_thread.join()
work_queue.join()  # Wait for all tasks to be processed"#
        }
        "race_condition" => {
            r#"def increment():
    global counter
    for _ in range(100000):
        counter += 1          # read, add, write: not atomic
# ... 5 threads ... "Final counter value: something less than 500000"
with lock:
    counter += 1              # "Final counter value: 500000""#
        }
        "rlock" => {
            r#"def increment_twice(self):
    with self._lock:
        self.increment()  # Can acquire lock again
        self.increment()"#
        }
        "semaphore" => {
            r#"semaphore = threading.Semaphore(2)  # Allow 2 concurrent accesses
def access_resource(worker_id):
    with semaphore:
        print(f"Worker {worker_id} accessing resource")
        time.sleep(2)
        print(f"Worker {worker_id} releasing resource")"#
        }
        "stoppable_worker" => {
            r#"class StoppableWorker:
    def stop(self):
        self._stop_event.set()
        self._thread.join()
    def _work(self):
        while not self._stop_event.is_set():
            time.sleep(0.1)"#
        }
        "thread_local" => {
            r#"data = threading.local()
def worker(n):
    data.count = 0
    for _ in range(n):
        data.count += 1      # no lock: every thread has its own count"#
        }
        "thread_subclass" => {
            r#"class WorkerThread(threading.Thread):
    def __init__(self, name, duration):
        super().__init__()
        self.name = name
        self.duration = duration
    def run(self):
        print(f"Worker {self.name} starting")
        time.sleep(self.duration)
        print(f"Worker {self.name} finished")"#
        }
        "without_vs_with_threads" => {
            r#"def greet(name):
    time.sleep(2)
    print(f"Hello, {name}!")

greet("Alice"); greet("Bob")            # ~4 s one after the other

t1 = threading.Thread(target=greet, args=("Alice",))
t2 = threading.Thread(target=greet, args=("Bob",))
t1.start(); t2.start(); t1.join(); t2.join()   # ~2 s"#
        }
        _ => "",
    }
}

/// The green threads lesson's worker under gevent: `N` greenlets each
/// sleeping, putting, sleeping and getting. The lesson runs it too, when a
/// `python3` with gevent is at hand.
pub(crate) const GEVENT_WORKERS: &str = r#"import gevent
from gevent.queue import Queue

def worker(q, i):
    gevent.sleep(0.25)      # blocking style: the wait switches greenlets
    q.put(i)
    gevent.sleep(0.25)
    return q.get()

N = 100_000
q = Queue()
gs = [gevent.spawn(worker, q, i) for i in range(N)]
gevent.joinall(gs)
assert sum(g.value for g in gs) == N * (N - 1) // 2"#;
