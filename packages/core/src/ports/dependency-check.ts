/**
 * Something Ensemble needs in order to serve (the database, the event bus). `/readyz` runs every
 * check with a deadline; a check throws, ideally an EnsembleError naming the cause, when its
 * dependency cannot be reached.
 */
export interface DependencyCheck {
  /** Short and stable, shown in `/readyz`: `database`, `event-bus`. */
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}
