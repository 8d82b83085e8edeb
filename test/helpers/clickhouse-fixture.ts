/**
 * The ClickHouse HTTP interface over chDB, for end-to-end tests of server mode (one fixture for
 * the whole repository; it lives with the collector, which depends on chDB).
 */
export {
  startClickHouseFixture,
  type ClickHouseFault,
  type ClickHouseFixture,
} from '../../collector/test/clickhouse-fixture.js';
