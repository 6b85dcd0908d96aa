"""The chain layer: compiler artifacts, devnet, connection, accounts, transactions, deployment.

Every other part of CityLedger reaches the chain through these modules, so the artifacts in
build/contracts and the record in deployments/<chain id>.json are the single source of truth."""
