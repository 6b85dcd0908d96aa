"""The DCAT-AP 3 catalogue: descriptions derived from registered documents and chain facts, the
harvestable catalogue, SHACL conformance, harvesting in, and a metadata quality score."""
