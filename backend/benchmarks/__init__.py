"""HTTP benchmarks of the plumbing (servers, load generator); not collected by pytest."""
