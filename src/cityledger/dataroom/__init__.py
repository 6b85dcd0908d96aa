"""The data room (issue 18): sign-in, the file store, downloads, releases to grantees, deliveries
and the deletion-obligation loop (docs/DATAROOM.md)."""
