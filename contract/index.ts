// The contract every layer agrees on. It imports nothing from the project.
export * from './config';
export * from './defaults';
export * from './failures';
export * from './ids';
