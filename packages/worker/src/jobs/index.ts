export { CancellationWatch } from './cancellation-watch.ts';
export { type DocumentTaskHandlerOptions, documentTaskHandler } from './document-task-handler.ts';
export { ItemSlots } from './item-slots.ts';
export * from './job-consumers.ts';
export { type JobPlannerOptions, jobPlannerHandler } from './job-planner-handler.ts';
export { type JobTaskHandlerOptions, jobTaskHandler, TasksHandedBack } from './job-task-handler.ts';
export { WebhookSender, type WebhookSenderOptions } from './webhook-sender.ts';
