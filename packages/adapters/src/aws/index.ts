export * from './ecs-task-protection.ts';
