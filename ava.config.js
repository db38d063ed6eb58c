export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '2m',
  workerThreads: false,
};
