// Lambda handlers of the migration runner custom resource (Node.js on AWS Lambda, plain JS so it
// needs no build): on every deploy that changes the migration task definition, `onEvent` starts the
// one-off `ensemble migrate` task and `isComplete` polls it until it stops. A non-zero exit fails the
// custom resource, so CloudFormation stops before the services roll and rolls the stack back.
//
// The AWS SDK v3 that Lambda's Node.js runtime ships is loaded lazily, so tests can inject a fake.

/** @typedef {{ send(command: { name: string, input: Record<string, unknown> }): Promise<any> }} EcsLike */

/** @returns {Promise<EcsLike>} */
async function defaultEcs() {
  const sdk = await import('@aws-sdk/client-ecs');
  const client = new sdk.ECSClient({});
  const commands = { RunTask: sdk.RunTaskCommand, DescribeTasks: sdk.DescribeTasksCommand };
  return { send: ({ name, input }) => client.send(new commands[name](input)) };
}

/** @param {() => Promise<EcsLike>} getEcs */
export function createHandlers(getEcs = defaultEcs) {
  /** @param {any} event */
  async function onEvent(event) {
    const physicalResourceId = event.PhysicalResourceId ?? `ensemble-migrate-${event.LogicalResourceId}`;
    if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalResourceId };
    const props = event.ResourceProperties;
    const ecs = await getEcs();
    const result = await ecs.send({
      name: 'RunTask',
      input: {
        cluster: props.Cluster,
        taskDefinition: props.TaskDefinition,
        launchType: 'FARGATE',
        count: 1,
        startedBy: 'ensemble-migrate',
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: props.Subnets,
            securityGroups: props.SecurityGroups,
            assignPublicIp: 'DISABLED',
          },
        },
      },
    });
    const failure = result.failures?.[0];
    const taskArn = result.tasks?.[0]?.taskArn;
    if (failure || !taskArn) {
      throw new Error(
        `could not start the migration task: ${failure ? `${failure.reason} ${failure.detail ?? ''}` : 'no task returned'}`,
      );
    }
    console.log(JSON.stringify({ msg: 'migration task started', taskArn }));
    return { PhysicalResourceId: physicalResourceId, Data: { TaskArn: taskArn } };
  }

  /** @param {any} event */
  async function isComplete(event) {
    if (event.RequestType === 'Delete') return { IsComplete: true };
    const taskArn = event.Data?.TaskArn;
    if (!taskArn) throw new Error('isComplete got no TaskArn from onEvent');
    const ecs = await getEcs();
    const result = await ecs.send({
      name: 'DescribeTasks',
      input: { cluster: event.ResourceProperties.Cluster, tasks: [taskArn] },
    });
    const task = result.tasks?.[0];
    if (!task) throw new Error(`migration task ${taskArn} not found`);
    if (task.lastStatus !== 'STOPPED') return { IsComplete: false };
    const container = task.containers?.find((c) => c.name === event.ResourceProperties.ContainerName);
    if (container?.exitCode === 0) {
      console.log(JSON.stringify({ msg: 'migration task succeeded', taskArn }));
      return { IsComplete: true, Data: { TaskArn: taskArn } };
    }
    const why =
      container?.exitCode !== undefined && container?.exitCode !== null
        ? `exit code ${container.exitCode}`
        : `${task.stopCode ?? 'stopped'}: ${container?.reason ?? task.stoppedReason ?? 'no reason given'}`;
    throw new Error(`migration task ${taskArn} failed (${why}); see its log group for the output`);
  }

  return { onEvent, isComplete };
}

const handlers = createHandlers();
export const onEvent = handlers.onEvent;
export const isComplete = handlers.isComplete;
