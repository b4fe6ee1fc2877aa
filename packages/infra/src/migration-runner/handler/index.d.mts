// Types of index.mjs, for the TypeScript tests that import it.
export interface EcsTask {
  taskArn?: string;
  lastStatus?: string;
  stopCode?: string;
  stoppedReason?: string;
  containers?: Array<{ name?: string; exitCode?: number | null; reason?: string }>;
}
export interface EcsResponse {
  tasks?: EcsTask[];
  failures?: Array<{ reason?: string; detail?: string }>;
}
export interface EcsLike {
  send(command: { name: string; input: Record<string, unknown> }): Promise<EcsResponse>;
}
export interface Handlers {
  onEvent(event: unknown): Promise<{ PhysicalResourceId: string; Data?: { TaskArn: string } }>;
  isComplete(event: unknown): Promise<{ IsComplete: boolean; Data?: { TaskArn: string } }>;
}
export function createHandlers(getEcs?: () => Promise<EcsLike>): Handlers;
export const onEvent: Handlers['onEvent'];
export const isComplete: Handlers['isComplete'];
