// Preloaded (`node -r`) by the feeder's process tests: loading Hardhat, solc or ts-node fails the
// run, proving the built entry point needs none of them at run time.
const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^(hardhat|solc|ts-node|@nomicfoundation\/|typechain)(\/|$)/.test(request)) {
    throw new Error(`the built feeder loaded ${request} at run time`);
  }
  return load.call(this, request, ...rest);
};
