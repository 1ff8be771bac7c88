//! `green::net` (feature `green`): sockets whose blocking-style calls park
//! only the calling green thread, over loopback.
//!
//! Each green test runs its green threads on one carrier: a socket call
//! that blocked the carrier instead of yielding would hang, which the hang
//! guard (far above the expected time) turns into a failure.
//!
//! `cpython_test_timeout` ports the TCP and UDP cases of CPython's
//! `Lib/test/test_timeout.py` (3.11: `testRecvTimeout`, `testSend`,
//! `testSendall`, `testRecvfromTimeout`) over loopback, without their
//! timing checks. CPython is under the Python Software Foundation License
//! Version 2 (Copyright (c) 2001 Python Software Foundation; All Rights
//! Reserved).

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use threadkit::green::net::{TcpListener, TcpStream, UdpSocket};
use threadkit::green::{self, GreenTimeout};
use threadkit::threading::Event;

mod common;
use common::guarded;

/// Echoes what `conn` sends until it shuts down its write half.
fn echo(mut conn: TcpStream) {
    let mut buf = [0; 4096];
    loop {
        match conn.read(&mut buf).unwrap() {
            0 => return,
            n => conn.write_all(&buf[..n]).unwrap(),
        }
    }
}

/// Sends `msg`, shuts down the write half and reads the echo to the end.
fn exchange(addr: std::net::SocketAddr, msg: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(msg).unwrap();
    s.flush().unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    got
}

/// Raises the soft limit of open files to `want` (or the hard limit) if
/// it is lower: 1000 connections take 2000 descriptors, and many systems
/// default to 1024.
fn allow_open_files(want: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the call to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return;
    }
    if lim.rlim_cur < want {
        lim.rlim_cur = want.min(lim.rlim_max);
        // SAFETY: `lim` is a valid rlimit; raising the soft limit up to
        // the hard one needs no privilege.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

#[test]
fn echo_server_with_1000_green_clients_on_one_carrier() {
    const CLIENTS: usize = 1000;
    allow_open_files(4096);
    guarded(|| {
        let carrier = std::thread::current().id();
        green::run(move || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let server = green::spawn(move || {
                let handlers: Vec<_> = listener
                    .incoming()
                    .take(CLIENTS)
                    .map(|conn| {
                        let conn = conn.unwrap();
                        green::spawn(move || echo(conn))
                    })
                    .collect();
                green::joinall(&handlers);
            });
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    green::spawn(move || {
                        assert_eq!(std::thread::current().id(), carrier);
                        let msg = format!("hello from green client {i}").repeat(1 + i % 7);
                        let got = exchange(addr, msg.as_bytes());
                        assert_eq!(got, msg.as_bytes());
                    })
                })
                .collect();
            for c in clients {
                c.get().unwrap();
            }
            server.get().unwrap();
        })
        .unwrap();
    });
}

#[test]
fn echo_outside_green_threads_blocks_like_std() {
    guarded(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            for conn in listener.incoming().take(3) {
                echo(conn.unwrap());
            }
        });
        for i in 0..3 {
            let msg = vec![i as u8; 100_000]; // more than one read
            assert_eq!(exchange(addr, &msg), msg);
        }
        server.join().unwrap();
        // UDP on plain threads.
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b_addr = b.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut buf = [0; 16];
            let (n, from) = b.recv_from(&mut buf).unwrap();
            b.send_to(&buf[..n], from).unwrap();
        });
        a.send_to(b"plain", b_addr).unwrap();
        let mut buf = [0; 16];
        let (n, from) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"plain"[..], b_addr));
        t.join().unwrap();
    });
}

#[test]
fn read_timeout_is_timed_out_and_other_green_threads_run_meanwhile() {
    guarded(|| {
        green::run(|| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (mut peer, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
            assert_eq!(s.read_timeout().unwrap(), Some(Duration::from_millis(30)));
            let ticks = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(Event::new());
            let ticker = {
                let (ticks, stop) = (Arc::clone(&ticks), Arc::clone(&stop));
                green::spawn(move || {
                    while !stop.wait_timeout(Duration::from_millis(1)) {
                        ticks.fetch_add(1, SeqCst);
                    }
                })
            };
            let err = s.read(&mut [0; 8]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut);
            assert!(ticks.load(SeqCst) > 0, "the read blocked the carrier");
            stop.set();
            ticker.join();
            // Nothing was lost: what comes after the timeout is read.
            peer.write_all(b"late").unwrap();
            let mut buf = [0; 4];
            s.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"late");
            // Zero is an error, as std's; None waits forever again.
            assert_eq!(
                s.set_read_timeout(Some(Duration::ZERO)).unwrap_err().kind(),
                ErrorKind::InvalidInput
            );
            s.set_read_timeout(None).unwrap();
            assert_eq!(s.read_timeout().unwrap(), None);
        })
        .unwrap();
    });
}

#[test]
fn write_timeout_when_the_peer_does_not_read() {
    fn fill_until_timeout(s: &TcpStream) {
        s.set_write_timeout(Some(Duration::from_millis(30)))
            .unwrap();
        let chunk = vec![7u8; 1 << 16];
        let mut w = s;
        loop {
            match Write::write(&mut w, &chunk) {
                Ok(n) => assert!(n > 0),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::TimedOut);
                    return;
                }
            }
        }
    }
    guarded(|| {
        // In a green thread.
        green::run(|| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let _peer = listener.accept().unwrap();
            fill_until_timeout(&s);
        })
        .unwrap();
        // On a plain thread.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _peer = listener.accept().unwrap();
        fill_until_timeout(&s);
        // And a read timeout on a plain thread.
        s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        assert_eq!(
            (&s).read(&mut [0; 4]).unwrap_err().kind(),
            ErrorKind::TimedOut
        );
    });
}

#[test]
fn killed_during_accept_takes_no_connection() {
    guarded(|| {
        green::run(|| {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
            let addr = listener.local_addr().unwrap();
            let waiting = {
                let listener = Arc::clone(&listener);
                green::spawn(move || listener.accept().map(|(_, peer)| peer))
            };
            green::yield_now(); // it waits in accept now
            waiting.kill();
            assert!(waiting.get().is_err());
            let client = TcpStream::connect(addr).unwrap();
            let (_conn, peer) = listener.accept().unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
        })
        .unwrap();
    });
}

#[test]
fn killed_or_timed_out_during_read_loses_no_bytes() {
    guarded(|| {
        green::run(|| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let s = Arc::new(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
            let (mut peer, _) = listener.accept().unwrap();
            // Killed while it waits.
            let reader = {
                let s = Arc::clone(&s);
                green::spawn(move || {
                    let mut buf = [0; 8];
                    (&*s).read(&mut buf).map(|n| buf[..n].to_vec())
                })
            };
            green::yield_now();
            reader.kill();
            assert!(reader.get().is_err());
            // Timed out by with_timeout while it waits.
            let got = green::with_timeout(Duration::from_millis(20), || {
                let mut buf = [0; 8];
                (&*s).read(&mut buf)
            });
            assert_eq!(got.unwrap_err(), GreenTimeout::Expired);
            // What arrives now is all there.
            peer.write_all(b"abcdef").unwrap();
            peer.shutdown(Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            (&*s).read_to_end(&mut rest).unwrap();
            assert_eq!(rest, b"abcdef");
        })
        .unwrap();
    });
}

#[test]
fn udp_round_trip_between_green_threads() {
    guarded(|| {
        green::run(|| {
            let server = UdpSocket::bind("127.0.0.1:0").unwrap();
            let server_addr = server.local_addr().unwrap();
            let echo = green::spawn(move || {
                let mut buf = [0; 64];
                for _ in 0..3 {
                    let (n, from) = server.recv_from(&mut buf).unwrap();
                    server.send_to(&buf[..n], from).unwrap();
                }
            });
            let client = UdpSocket::bind("127.0.0.1:0").unwrap();
            client.connect(server_addr).unwrap();
            assert_eq!(client.peer_addr().unwrap(), server_addr);
            for msg in [&b"one"[..], b"two", b"three"] {
                assert_eq!(client.send(msg).unwrap(), msg.len());
                let mut buf = [0; 64];
                let n = client.recv(&mut buf).unwrap();
                assert_eq!(&buf[..n], msg);
            }
            echo.get().unwrap();
            client
                .set_read_timeout(Some(Duration::from_millis(10)))
                .unwrap();
            assert_eq!(
                client.recv(&mut [0; 4]).unwrap_err().kind(),
                ErrorKind::TimedOut
            );
        })
        .unwrap();
    });
}

#[test]
fn connection_refused_is_an_io_error() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }; // closed: nothing listens there now
    guarded(move || {
        let err = green::run(move || TcpStream::connect(addr).unwrap_err()).unwrap();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = TcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = TcpStream::connect_timeout(&addr, Duration::ZERO).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn std_sockets_convert() {
    guarded(|| {
        green::run(|| {
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let listener = TcpListener::try_from(std_listener).unwrap();
            let std_client = std::net::TcpStream::connect(addr).unwrap();
            let client = TcpStream::try_from(std_client).unwrap();
            client.set_nodelay(true).unwrap();
            assert!(client.nodelay().unwrap());
            let (conn, peer) = listener.accept().unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(conn.peer_addr().unwrap(), peer);
            (&client).write_all(b"x").unwrap();
            let mut b = [0; 1];
            (&conn).read_exact(&mut b).unwrap();
            assert_eq!(&b, b"x");
            let udp =
                UdpSocket::try_from(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
            udp.send_to(b"self", udp.local_addr().unwrap()).unwrap();
            let mut buf = [0; 8];
            assert_eq!(udp.recv_from(&mut buf).unwrap().0, 4);
        })
        .unwrap();
    });
}

/// CPython's `_sock_operation(count, timeout, method, *args)`: runs `op`
/// at most `count` times; it must fail with a timeout (`TimeoutError`).
fn sock_operation<T>(count: usize, mut op: impl FnMut() -> std::io::Result<T>) {
    for _ in 0..count {
        if let Err(e) = op() {
            assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
            return;
        }
    }
    panic!("TimeoutError was not raised");
}

#[test]
fn cpython_test_timeout() {
    guarded(|| {
        green::run(|| {
            let timeout = Some(Duration::from_millis(50));
            let serv = TcpListener::bind("127.0.0.1:0").unwrap();
            // testRecvTimeout
            let sock = TcpStream::connect(serv.local_addr().unwrap()).unwrap();
            let _peer = serv.accept().unwrap();
            sock.set_read_timeout(timeout).unwrap();
            sock_operation(1, || (&sock).read(&mut [0; 1024]));
            // testSend: a lot of data, to get past the TCP stack's buffers.
            let big = vec![b'X'; 200_000];
            let sock = TcpStream::connect(serv.local_addr().unwrap()).unwrap();
            let _peer = serv.accept().unwrap();
            sock.set_write_timeout(timeout).unwrap();
            sock_operation(100, || Write::write(&mut &sock, &big));
            // testSendall
            let sock = TcpStream::connect(serv.local_addr().unwrap()).unwrap();
            let _peer = serv.accept().unwrap();
            sock.set_write_timeout(timeout).unwrap();
            sock_operation(100, || (&sock).write_all(&big));
            // testRecvfromTimeout
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_read_timeout(timeout).unwrap();
            sock_operation(1, || sock.recv_from(&mut [0; 1024]));
        })
        .unwrap();
    });
}

#[test]
fn try_clone_reads_while_the_original_writes() {
    guarded(|| {
        green::run(|| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let (conn, _) = listener.accept().unwrap();
            let server = green::spawn(move || echo(conn));
            let mut reader = s.try_clone().unwrap();
            assert_eq!(
                reader.read_timeout().unwrap(),
                Some(Duration::from_secs(30))
            );
            let got = green::spawn(move || {
                let mut got = Vec::new();
                reader.read_to_end(&mut got).unwrap();
                got
            });
            (&s).write_all(b"through the clone").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            assert_eq!(got.get().unwrap(), b"through the clone");
            server.join();
            s.set_ttl(42).unwrap();
            assert_eq!(s.ttl().unwrap(), 42);
            assert!(s.take_error().unwrap().is_none());
            // Back to std, blocking.
            let std_listener = listener.try_clone().unwrap().into_std().unwrap();
            assert_eq!(
                std_listener.local_addr().unwrap(),
                listener.local_addr().unwrap()
            );
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            udp.set_broadcast(true).unwrap();
            assert!(udp.broadcast().unwrap());
            let std_udp = udp.try_clone().unwrap().into_std().unwrap();
            std_udp.send_to(b"std", udp.local_addr().unwrap()).unwrap();
            let mut buf = [0; 8];
            assert_eq!(udp.recv_from(&mut buf).unwrap().0, 3);
        })
        .unwrap();
    });
}

#[test]
fn the_root_of_a_hub_runs_its_green_threads_while_it_waits_on_a_socket() {
    guarded(|| {
        // No `green::run`: this thread is the hub's root, and its read
        // must run the green thread that writes, or hang.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (conn, _) = listener.accept().unwrap();
        let writer = green::spawn(move || {
            threadkit::sleep(Duration::from_millis(10));
            (&conn).write_all(b"from green").unwrap();
            conn
        });
        let mut buf = [0; 10];
        (&s).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"from green");
        drop(writer.get().unwrap());
    });
}

#[test]
fn peek_waits_and_leaves_the_data() {
    guarded(|| {
        green::run(|| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (conn, _) = listener.accept().unwrap();
            let writer = green::spawn(move || {
                threadkit::sleep(Duration::from_millis(5));
                (&conn).write_all(b"peeked").unwrap();
                conn
            });
            let mut buf = [0; 6];
            let n = s.peek(&mut buf).unwrap(); // waits, yielding to the writer
            assert_eq!(&buf[..n], &b"peeked"[..n]);
            (&s).read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"peeked");
            drop(writer.get().unwrap());
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            a.send_to(b"dgram", b.local_addr().unwrap()).unwrap();
            let mut buf = [0; 8];
            assert_eq!(b.peek_from(&mut buf).unwrap(), (5, a.local_addr().unwrap()));
            assert_eq!(b.recv_from(&mut buf).unwrap().0, 5);
            assert_eq!(&buf[..5], b"dgram");
        })
        .unwrap();
    });
}
