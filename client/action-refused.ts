// The session refused an operator's request. Its own module: the CLI tells it apart at exit
// without loading the Temporal client that a refused input never needed.
export class ActionRefused extends Error {
  override readonly name = 'ActionRefused';
}
