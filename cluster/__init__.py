"""Cluster configs (Ray launcher, KubeRay, MLflow server) and a local multi-node Ray cluster.

The YAML and shell files are for operators (see ``cluster/README.md``); the one Python module,
:mod:`cluster.local_cluster`, starts a head and worker nodes on one machine for trying the
cluster path, for the cluster tests and for the scaling benchmark.
"""
