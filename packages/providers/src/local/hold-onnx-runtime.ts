import { oneNativeLoadAtATime } from './native-load-gate.ts';

let held: Promise<unknown> | undefined;

/**
 * Loads onnxruntime-node's native addon in this thread (the server's) and keeps it for the life of the
 * process. Replicas load it in their worker threads; once every thread that had it loaded has ended,
 * a new worker cannot load it again ("Module did not self-register"), so an undeploy followed by a
 * deploy, or a replica restarted after the last one died, would fail. Costs no session and no model.
 */
export function holdOnnxRuntime(): Promise<unknown> {
  held ??= oneNativeLoadAtATime(() => import('onnxruntime-node'));
  return held;
}
