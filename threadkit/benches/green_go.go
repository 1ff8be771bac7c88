// The Go side of benches/green.rs: goroutines on one OS thread (GOMAXPROCS=1),
// measured the way the Rust side measures green threads. One case per run;
// each prints one JSON line.
//
//	go run green_go.go yield N      two goroutines taking turns with runtime.Gosched: ns per yield
//	go run green_go.go pingpong N   round trip over two unbuffered channels: ns
//	go run green_go.go spawn N      start a goroutine that returns at once and wait for it: ns
//	go run green_go.go sleep N      N goroutines each sleeping 0.5 s: wall and CPU seconds, RSS per goroutine
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// rounds runs f four times and keeps the median of the last three (the first warms up).
func rounds(f func() float64) float64 {
	f()
	xs := []float64{f(), f(), f()}
	sort.Float64s(xs)
	return xs[1]
}

func perOp(start time.Time, ops int) float64 {
	return float64(time.Since(start).Nanoseconds()) / float64(ops)
}

func yield(n int) float64 {
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	return perOp(start, 2*n)
}

func pingpong(n int) float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	close(ping)
	return perOp(start, n)
}

func spawn(n int) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		done := make(chan struct{})
		go func() { close(done) }()
		<-done
	}
	return perOp(start, n)
}

// rssKib reads the resident set size from /proc/self/statm (pages).
func rssKib() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	return float64(resident*int64(os.Getpagesize())) / 1024
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func sleep(n int) {
	before := rssKib()
	cpu0 := cpuSeconds()
	var asleep, done sync.WaitGroup
	asleep.Add(n)
	done.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			asleep.Done()
			time.Sleep(500 * time.Millisecond)
			done.Done()
		}()
	}
	asleep.Wait()
	perGoroutine := (rssKib() - before) * 1024 / float64(n)
	done.Wait()
	fmt.Printf("{\"case\":\"sleep\",\"wall_s\":%f,\"cpu_s\":%f,\"rss_bytes_per\":%f}\n",
		time.Since(start).Seconds(), cpuSeconds()-cpu0, perGoroutine)
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: green_go.go yield|pingpong|spawn|sleep N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "N must be a positive number")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "yield":
		fmt.Printf("{\"case\":\"yield\",\"ns\":%f}\n", rounds(func() float64 { return yield(n) }))
	case "pingpong":
		fmt.Printf("{\"case\":\"pingpong\",\"ns\":%f}\n", rounds(func() float64 { return pingpong(n) }))
	case "spawn":
		fmt.Printf("{\"case\":\"spawn\",\"ns\":%f}\n", rounds(func() float64 { return spawn(n) }))
	case "sleep":
		sleep(n)
	default:
		fmt.Fprintln(os.Stderr, "unknown case", os.Args[1])
		os.Exit(2)
	}
}
