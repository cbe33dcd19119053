//! Kafka storage: reading `meta.properties` and formatting with Kafka's own StorageTool.
