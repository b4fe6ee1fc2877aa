import { createTestDatabase } from '@ensemble/testkit';
import { describeEventBusContract } from '@ensemble/testkit/event-bus-contract';
import { createDatabase } from '../postgres/create-database.ts';
import { runMigrations } from '../postgres/migration-runner.ts';
import { EmbeddedEventBus } from './embedded-event-bus.ts';

describeEventBusContract('embedded (PostgreSQL)', async () => {
  const testDatabase = await createTestDatabase('bus_contract');
  // Each client has its own pool and connections, as another process would.
  const connect = () =>
    new EmbeddedEventBus({ database: createDatabase({ url: testDatabase.url }), ownsDatabase: true });
  const migrator = createDatabase({ url: testDatabase.url });
  await runMigrations(migrator);
  await migrator.close();
  const bus = connect();
  return {
    bus,
    secondClient: async () => connect(),
    cleanup: () => testDatabase.drop(),
  };
});
