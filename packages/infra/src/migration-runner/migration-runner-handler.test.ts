import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHandlers, type EcsLike, type EcsResponse } from './handler/index.mjs';

// The Lambda handlers of the migration custom resource, against a fake ECS API.
function fakeEcs(responses: Record<string, EcsResponse[]>) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const ecs: EcsLike = {
    async send(command) {
      calls.push(command);
      const next = responses[command.name]?.shift();
      if (next === undefined) throw new Error(`unexpected ${command.name}`);
      return next;
    },
  };
  return { calls, getEcs: async () => ecs };
}

const properties = {
  Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/ensemble-dev',
  TaskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/ensemble-dev-migrate:7',
  ContainerName: 'ensemble',
  Subnets: ['subnet-a', 'subnet-b'],
  SecurityGroups: ['sg-app'],
};
const taskArn = 'arn:aws:ecs:us-east-1:123456789012:task/ensemble-dev/abc';

test('a create or update starts one Fargate task of the migration in the private subnets', async () => {
  const { calls, getEcs } = fakeEcs({ RunTask: [{ tasks: [{ taskArn }], failures: [] }] });
  const result = await createHandlers(getEcs).onEvent({
    RequestType: 'Update',
    PhysicalResourceId: 'ensemble-migrate-Migration',
    ResourceProperties: properties,
  });
  assert.deepEqual(result, { PhysicalResourceId: 'ensemble-migrate-Migration', Data: { TaskArn: taskArn } });
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]?.input, {
    cluster: properties.Cluster,
    taskDefinition: properties.TaskDefinition,
    launchType: 'FARGATE',
    count: 1,
    startedBy: 'ensemble-migrate',
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ['subnet-a', 'subnet-b'],
        securityGroups: ['sg-app'],
        assignPublicIp: 'DISABLED',
      },
    },
  });
});

test('a task that cannot start fails the deploy with ECS’s reason', async () => {
  const { getEcs } = fakeEcs({ RunTask: [{ tasks: [], failures: [{ reason: 'RESOURCE:ENI', detail: 'no ENI' }] }] });
  await assert.rejects(
    createHandlers(getEcs).onEvent({
      RequestType: 'Create',
      LogicalResourceId: 'Migration',
      ResourceProperties: properties,
    }),
    /could not start the migration task: RESOURCE:ENI no ENI/,
  );
});

test('completion waits for STOPPED and succeeds only on exit code 0', async () => {
  const event = { RequestType: 'Update', ResourceProperties: properties, Data: { TaskArn: taskArn } };
  const running = fakeEcs({ DescribeTasks: [{ tasks: [{ lastStatus: 'RUNNING', containers: [] }] }] });
  assert.deepEqual(await createHandlers(running.getEcs).isComplete(event), { IsComplete: false });

  const ok = fakeEcs({
    DescribeTasks: [{ tasks: [{ lastStatus: 'STOPPED', containers: [{ name: 'ensemble', exitCode: 0 }] }] }],
  });
  assert.equal((await createHandlers(ok.getEcs).isComplete(event)).IsComplete, true);

  const failed = fakeEcs({
    DescribeTasks: [{ tasks: [{ lastStatus: 'STOPPED', containers: [{ name: 'ensemble', exitCode: 78 }] }] }],
  });
  await assert.rejects(createHandlers(failed.getEcs).isComplete(event), /failed \(exit code 78\)/);

  const neverRan = fakeEcs({
    DescribeTasks: [
      {
        tasks: [
          {
            lastStatus: 'STOPPED',
            stopCode: 'TaskFailedToStart',
            containers: [{ name: 'ensemble', reason: 'CannotPullContainerError' }],
          },
        ],
      },
    ],
  });
  await assert.rejects(
    createHandlers(neverRan.getEcs).isComplete(event),
    /TaskFailedToStart: CannotPullContainerError/,
  );
});

test('deleting the resource runs nothing', async () => {
  const { calls, getEcs } = fakeEcs({});
  const handlers = createHandlers(getEcs);
  assert.deepEqual(
    await handlers.onEvent({ RequestType: 'Delete', PhysicalResourceId: 'p', ResourceProperties: properties }),
    {
      PhysicalResourceId: 'p',
    },
  );
  assert.deepEqual(await handlers.isComplete({ RequestType: 'Delete', ResourceProperties: properties }), {
    IsComplete: true,
  });
  assert.equal(calls.length, 0);
});
