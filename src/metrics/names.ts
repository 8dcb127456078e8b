/**
 * Metric names (docs/design.md "Metrics"). Dashboards and alert rules depend on them: add names
 * freely, never rename one. Units are suffixes (`_seconds`, `_timestamp_seconds`, `_ratio`),
 * counters end in `_total`. Every series also carries the `vantage` label (a registry default).
 * The label sets are built in labels.ts (LABEL_NAMES), for the scrape path and remote write.
 */

/** The label every series carries: the vantage point's id. */
export const VANTAGE_LABEL = 'vantage';

// Probe outcomes (written by recordProbe).
/** gauge {target, path, country, asn, category, kind}: 1 when the last probe succeeded, else 0. */
export const PROBE_SUCCESS = 'lookout_probe_success';
/** gauge {target, path, country, kind, phase}: seconds spent in each phase of the last probe. */
export const PROBE_DURATION_SECONDS = 'lookout_probe_duration_seconds';
/** histogram {country, kind}: total time of successful probes. */
export const PROBE_LATENCY_SECONDS = 'lookout_probe_latency_seconds';
/** counter {target, path, country, kind, reason}: failed probes by reason code. */
export const PROBE_FAILURES_TOTAL = 'lookout_probe_failures_total';
/** counter {kind}: probes completed, successful or not. */
export const PROBES_TOTAL = 'lookout_probes_total';
/** counter {target, path}: scheduled probes not started because the target's previous one was still queued or running. */
export const PROBE_SKIPPED_TOTAL = 'lookout_probe_skipped_total';
export const ADAPTIVE_PROBES_TOTAL = 'lookout_adaptive_probes_total';
/** gauge {target, path}: notAfter of the leaf certificate last seen, epoch seconds. */
export const TLS_CERT_EXPIRY_TIMESTAMP_SECONDS = 'lookout_tls_cert_expiry_timestamp_seconds';

// Detector-owned (defined here, written by the detector).
/** gauge {target, path, country, asn, category}: 1 when the detector holds the target up. */
export const TARGET_UP = 'lookout_target_up';
/** gauge {country, path}: share of eligible targets of a country that are up. */
export const COUNTRY_REACHABILITY_RATIO = 'lookout_country_reachability_ratio';
/** gauge {country, path}: median latency of a country's targets over their own baselines. */
export const COUNTRY_LATENCY_RATIO = 'lookout_country_latency_ratio';
/** gauge {kind, country, asn, category, mechanism, path}: 1 while a disruption event is open. */
export const DISRUPTION_ACTIVE = 'lookout_disruption_active';
/** counter {kind, country, path}: disruption events opened. */
export const DISRUPTIONS_TOTAL = 'lookout_disruptions_total';
/** gauge {target, path, country, located_country, located_asn}: 1 while the target answers from outside its declared country or AS. */
export const TARGET_GEO_MISMATCH = 'lookout_target_geo_mismatch';
/** gauge {path}: 1 while the vantage point's (or path's) controls answer. */
export const VANTAGE_ONLINE = 'lookout_vantage_online';

// The daemon itself.
/** histogram: how late scheduled probes start against their planned time, seconds. */
export const SCHEDULER_LAG_SECONDS = 'lookout_scheduler_lag_seconds';
/** gauge, read at scrape time: probes currently running. */
export const PROBES_IN_FLIGHT = 'lookout_probes_in_flight';
/** gauge {kind}, computed at scrape time: configured targets. */
export const TARGETS = 'lookout_targets';
/** gauge: 1 when the last config reload succeeded (and at start), 0 after a failed one. */
export const CONFIG_LAST_RELOAD_SUCCESSFUL = 'lookout_config_last_reload_successful';
/** counter {result = success | failure}: config reload attempts. */
export const CONFIG_RELOADS_TOTAL = 'lookout_config_reloads_total';
/** gauge {version, node}: always 1. */
export const BUILD_INFO = 'lookout_build_info';

// Storage (the event log in storage.dir).
/** gauge: 1 while the event log takes writes, 0 from a failed write until the held events are written. */
export const STORAGE_HEALTHY = 'lookout_storage_healthy';
/** gauge: events held in memory, not yet durable in the event log. */
export const EVENTS_PENDING = 'lookout_events_pending';
/** counter {op = check | write | sync | rotate}: failed storage operations of the event log. */
export const STORAGE_ERRORS_TOTAL = 'lookout_storage_errors_total';

// Remote write (issue 12), label `remote` = the remote's name.
/** gauge {remote}: samples durable in the queue and not yet acknowledged. */
export const REMOTE_WRITE_PENDING_SAMPLES = 'lookout_remote_write_pending_samples';
/** gauge {remote}: bytes of the queue's segment files on disk. */
export const REMOTE_WRITE_PENDING_BYTES = 'lookout_remote_write_pending_bytes';
/** gauge {remote}: age of the oldest pending sample, seconds (0 when nothing is pending). */
export const REMOTE_WRITE_OLDEST_PENDING_AGE_SECONDS = 'lookout_remote_write_oldest_pending_age_seconds';
/** counter {remote}: samples acknowledged by the receiver. */
export const REMOTE_WRITE_SAMPLES_SENT_TOTAL = 'lookout_remote_write_samples_sent_total';
/** counter {remote}: samples the receiver refused with a 4xx (skipped, never retried). */
export const REMOTE_WRITE_SAMPLES_FAILED_TOTAL = 'lookout_remote_write_samples_failed_total';
/** counter {remote}: samples dropped unsent because the queue was over queue.max_bytes. */
export const REMOTE_WRITE_SAMPLES_DROPPED_TOTAL = 'lookout_remote_write_samples_dropped_total';
/** counter {remote, outcome = ok | refused | retry}: remote write requests by outcome. */
export const REMOTE_WRITE_REQUESTS_TOTAL = 'lookout_remote_write_requests_total';

// Block probing (issue 23, docs/blocks.md): bounded labels, never a series per block.
/** gauge {country, state = monitored | up | down | uncertain}: this instance's blocks of a country. */
export const COUNTRY_BLOCKS = 'lookout_country_blocks';
/** gauge {asn, state = monitored | up | down | uncertain}: this instance's blocks of an AS. */
export const ASN_BLOCKS = 'lookout_asn_blocks';
/** gauge {country}: blocks up now over their median over 7 days ("% of ordinary" / 100); absent before enough rounds. */
export const COUNTRY_BLOCKS_ORDINARY_RATIO = 'lookout_country_blocks_ordinary_ratio';
/** gauge {asn}: as lookout_country_blocks_ordinary_ratio, per AS. */
export const ASN_BLOCKS_ORDINARY_RATIO = 'lookout_asn_blocks_ordinary_ratio';
/** gauge {country}: the ordinary level as a count of blocks up (the 7-day median); summable over shards. */
export const COUNTRY_BLOCKS_ORDINARY = 'lookout_country_blocks_ordinary';
/** gauge {asn}: as lookout_country_blocks_ordinary, per AS. */
export const ASN_BLOCKS_ORDINARY = 'lookout_asn_blocks_ordinary';
/** gauge: this instance's blocks.shard.index. */
export const BLOCKS_SHARD_INDEX = 'lookout_blocks_shard_index';
/** gauge: this instance's blocks.shard.count (the shards the deployment should have). */
export const BLOCKS_SHARD_COUNT = 'lookout_blocks_shard_count';
/** gauge {reason = undiscovered | sparse | low_availability}: blocks of this instance not monitored. */
export const BLOCKS_UNMONITORED = 'lookout_blocks_unmonitored';
/** counter {phase = discovery | round | adaptive}: ICMP echoes sent to blocks. */
export const BLOCK_PROBES_TOTAL = 'lookout_block_probes_total';
/** counter: block probing rounds completed. */
export const BLOCK_ROUNDS_TOTAL = 'lookout_block_rounds_total';
// Windows on a timetable (issue 25).
/** gauge {window, kind}: 1 while the window is open, else 0; one series per configured window. */
export const WINDOW_ACTIVE = 'lookout_window_active';
/** gauge {kind, country, path, window}: 1 for each open event that opened inside the expected window. */
export const DISRUPTION_EXPECTED = 'lookout_disruption_expected';
