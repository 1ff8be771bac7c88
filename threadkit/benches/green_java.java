// The Java side of benches/green.rs: virtual threads (JDK 21+) on one carrier
// (-Djdk.virtualThreadScheduler.parallelism=1), measured the way the Rust side
// measures green threads. One case per run; each prints one JSON line.
//
//   java GreenJava yield N      two virtual threads taking turns with Thread.yield: ns per yield
//   java GreenJava pingpong N   round trip over two unbounded LinkedBlockingQueues: ns
//   java GreenJava spawn N      start a virtual thread that returns at once and join it: ns
//   java GreenJava sleep N      N virtual threads each sleeping 0.5 s: wall and CPU seconds, RSS per thread
//
// It compiles with any javac from 17 on (--release 17) and runs on a JDK 21+:
// virtual threads are started through a method handle found at run time, so
// an older JDK fails with a message (exit status 3) instead of a compile error.
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;

class GreenJava {
    /** Thread.startVirtualThread(Runnable), JDK 21+. */
    static final MethodHandle START_VIRTUAL;

    static {
        MethodHandle h;
        try {
            h = MethodHandles.publicLookup().findStatic(
                    Thread.class, "startVirtualThread", MethodType.methodType(Thread.class, Runnable.class));
        } catch (ReflectiveOperationException e) {
            h = null;
        }
        START_VIRTUAL = h;
    }

    static Thread virtual(Runnable body) {
        try {
            return (Thread) START_VIRTUAL.invokeExact(body);
        } catch (Throwable e) {
            throw new RuntimeException(e);
        }
    }

    interface Case {
        double run() throws Exception;
    }

    /** Runs the case four times and keeps the median of the last three (the first warms up the JIT). */
    static double rounds(Case c) throws Exception {
        c.run();
        double[] xs = {c.run(), c.run(), c.run()};
        Arrays.sort(xs);
        return xs[1];
    }

    static double yieldCase(int n) throws Exception {
        Runnable body = () -> {
            for (int i = 0; i < n; i++) {
                Thread.yield();
            }
        };
        long start = System.nanoTime();
        Thread a = virtual(body);
        Thread b = virtual(body);
        a.join();
        b.join();
        return (System.nanoTime() - start) / (2.0 * n);
    }

    static double pingpong(int n) throws Exception {
        LinkedBlockingQueue<Integer> ping = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Integer> pong = new LinkedBlockingQueue<>();
        long[] took = new long[1];
        Thread pinger = virtual(() -> {
            try {
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    ping.put(i);
                    pong.take();
                }
                took[0] = System.nanoTime() - start;
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread ponger = virtual(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    pong.put(ping.take());
                }
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        pinger.join();
        ponger.join();
        return took[0] / (double) n;
    }

    static double spawn(int n) throws Exception {
        // Driven from a virtual thread, as a green thread spawns from the hub.
        double[] ns = new double[1];
        Thread driver = virtual(() -> {
            try {
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    virtual(() -> {}).join();
                }
                ns[0] = (System.nanoTime() - start) / (double) n;
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        driver.join();
        return ns[0];
    }

    static long rssKib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.split("\\s+")[1]);
            }
        }
        return 0;
    }

    static double cpuSeconds() {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os.getProcessCpuTime() / 1e9;
    }

    static void sleep(int n) throws Exception {
        // Warm the code paths first, as the other sides have run theirs once.
        for (int i = 0; i < 1000; i++) {
            virtual(() -> {}).join();
        }
        long before = rssKib();
        double cpu0 = cpuSeconds();
        CountDownLatch asleep = new CountDownLatch(n);
        ArrayList<Thread> threads = new ArrayList<>(n);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            threads.add(virtual(() -> {
                asleep.countDown();
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        asleep.await();
        double perThread = (rssKib() - before) * 1024.0 / n;
        for (Thread t : threads) {
            t.join();
        }
        double wall = (System.nanoTime() - start) / 1e9;
        System.out.printf("{\"case\":\"sleep\",\"wall_s\":%f,\"cpu_s\":%f,\"rss_bytes_per\":%f}%n",
                wall, cpuSeconds() - cpu0, perThread);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: GreenJava yield|pingpong|spawn|sleep N");
            System.exit(2);
        }
        if (START_VIRTUAL == null) {
            System.err.println("virtual threads need JDK 21 or later; this is " + Runtime.version());
            System.exit(3);
        }
        int n = Integer.parseInt(args[1]);
        switch (args[0]) {
            case "yield" -> System.out.printf("{\"case\":\"yield\",\"ns\":%f}%n", rounds(() -> yieldCase(n)));
            case "pingpong" -> System.out.printf("{\"case\":\"pingpong\",\"ns\":%f}%n", rounds(() -> pingpong(n)));
            case "spawn" -> System.out.printf("{\"case\":\"spawn\",\"ns\":%f}%n", rounds(() -> spawn(n)));
            case "sleep" -> sleep(n);
            default -> {
                System.err.println("unknown case " + args[0]);
                System.exit(2);
            }
        }
    }
}
