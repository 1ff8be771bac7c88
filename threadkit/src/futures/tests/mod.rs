mod loom_future;
