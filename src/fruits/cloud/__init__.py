"""`fruits-cloud`: the AWS console steps of an EMR run (bucket, upload, package, cluster, step, logs, cost,
results, teardown) as reproducible commands. Entry point: :func:`fruits.cloud.cli.cli`."""
