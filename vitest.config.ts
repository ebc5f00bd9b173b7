import { defineConfig } from 'vitest/config';
import { LOCAL_INTEGRATION_TESTS } from './test/integration/lanes.js';

/**
 * Long builds that `npm test` leaves to their own command (`npm run test:deploy`): the installed package,
 * the deploy image, the real docker-mailserver image and the lab's settings on it, and a real Temporal cluster.
 */
const DEPLOY_TESTS = [
  'test/integration/package.test.ts',
  'test/integration/image.test.ts',
  'test/integration/dms-image.test.ts',
  'test/integration/dms-lab-spec.test.ts',
  // builds and runs a PostgreSQL-backed Temporal cluster (about 2 minutes once built)
  'test/integration/cluster.test.ts',
  // deploy/compose.yaml brought up with docker-compose: the image, docker-mailserver, Temporal, the proxy
  'test/integration/compose.test.ts',
];

const INTEGRATION = {
  testTimeout: 180_000,
  hookTimeout: 600_000,
  fileParallelism: false,
  globalSetup: ['test/integration/global-setup.ts'],
};

// Unit tests are pure and fast; integration tests use the real parts (Temporal server, Docker engine,
// sshd, the mail lab) and run one file at a time because they share those parts on a 2-core machine;
// `npm test` runs the lab's files in one lane and the others in a second lane beside it.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        // The runbooks' branches on a real Temporal dev server with fake activities (no Docker): every case
        // of a file runs at the same time, each against its own fake target.
        test: {
          name: 'workflows',
          include: ['test/workflows/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          maxConcurrency: 100,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: [...DEPLOY_TESTS],
          ...INTEGRATION,
        },
      },
      // The same files in the two lanes `npm test` runs at once (scripts/test-lanes.mjs, test/integration/lanes.ts).
      {
        test: {
          name: 'integration-lab',
          include: ['test/integration/**/*.test.ts'],
          exclude: [...DEPLOY_TESTS, ...LOCAL_INTEGRATION_TESTS],
          ...INTEGRATION,
        },
      },
      {
        test: {
          name: 'integration-local',
          include: [...LOCAL_INTEGRATION_TESTS],
          ...INTEGRATION,
        },
      },
      {
        test: {
          name: 'deploy',
          include: [...DEPLOY_TESTS],
          testTimeout: 1_200_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
      {
        // After the integration suites: replay their recorded histories and scan them for secrets.
        test: {
          name: 'histories',
          include: ['test/histories/**/*.test.ts'],
          testTimeout: 300_000,
        },
      },
      {
        // A browser (Debian chromium via playwright-core) in the real Temporal Web UI of a dev server.
        test: {
          name: 'ui',
          include: ['test/ui/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
