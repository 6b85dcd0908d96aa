// Hardhat's node as CityLedger's second EVM client (docs/NETWORKS.md "A second client: Hardhat"):
// `hardhat node` only, started by cityledger.chain.hardhat.Hardhat. No Solidity is compiled here
// (CityLedger deploys its own Vyper bytecode), so no compiler is ever downloaded and the node runs
// offline. `hardhat node` takes its chain from this file only: the launcher passes the values of the
// [networks.hardhat] entry in the environment.
const env = process.env;
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(env.CITYLEDGER_HARDHAT_CHAIN_ID || 31337),
      // The devnet's documented test mnemonic and accounts, as anvil's (public, devnet only).
      accounts: {
        mnemonic: env.CITYLEDGER_HARDHAT_MNEMONIC || "test test test test test test test test test test test junk",
        count: Number(env.CITYLEDGER_HARDHAT_ACCOUNTS || 10),
      },
      hardfork: "prague", // Vyper 0.4.3's default EVM version, and anvil's
      mining: { auto: true, interval: 0 }, // a block per transaction, as the devnet's automine
    },
  },
};
