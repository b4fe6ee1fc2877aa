/**
 * Which projects uploaded which artifacts. The artifact store is shared and content-addressed (one
 * copy of a file however many projects upload it), so tenancy lives here: a project sees, checks and
 * uses only the artifacts it uploaded itself — to any other, an artifact does not exist.
 */
export interface ArtifactOwners {
  /** Records that the project uploaded this content (again is a no-op). */
  record(projectId: string, sha256: string): Promise<void>;
  owns(projectId: string, sha256: string): Promise<boolean>;
  /** The project's artifacts. */
  list(projectId: string): Promise<ReadonlySet<string>>;
}

/** Artifact owners in memory, for tests without a database. */
export class InMemoryArtifactOwners implements ArtifactOwners {
  readonly #owned = new Set<string>();

  async record(projectId: string, sha256: string): Promise<void> {
    this.#owned.add(`${projectId}\u0000${sha256}`);
  }

  async owns(projectId: string, sha256: string): Promise<boolean> {
    return this.#owned.has(`${projectId}\u0000${sha256}`);
  }

  async list(projectId: string): Promise<ReadonlySet<string>> {
    const prefix = `${projectId}\u0000`;
    return new Set(
      [...this.#owned].filter((entry) => entry.startsWith(prefix)).map((entry) => entry.slice(prefix.length)),
    );
  }
}
