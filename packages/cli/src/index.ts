export { main } from './main.js';
export { EXIT, type ExitCode, type Io } from './io.js';
