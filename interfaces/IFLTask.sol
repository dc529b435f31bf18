// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IRoundHook} from "./IRoundHook.sol";

/// @title IFLTask — the on-chain round protocol of one federated learning experiment
/// @notice Clients are identified by a 1-based id given at registration. Sets of clients
/// (those selected for a round, those aggregated into it) are bitmaps over these ids:
/// bit `id % 256` of word `id / 256`. The canonical order of a set is ascending id.
///
/// A client registers and commits the keccak-256 of its update artifact either itself
/// (`register`, `commitUpdate`: one transaction each) or by signing the EIP-712 messages
/// `Register(bytes32 experiment,address client)` / `Commit(bytes32 experiment,uint256 round,bytes32 updateHash)`
/// in the domain (name "OnChainFL", version "1", chainId, verifyingContract = the task), with
/// `experiment = experimentId = keccak256(abi.encode(configHash, salt))`, and letting the
/// aggregator submit many of them in one transaction (`registerBatch`, `commitBatch`). Either
/// way the registration and the commitment are bound to the client's own key and to this one
/// run: the deployer's random salt differs between runs even where the task's address, chain
/// id and config do not.
///
/// Registration closes when round 1 opens. A round's commit phase closes with `closeCommits`
/// or at the latest at `finalizeRound`; its committed set is fixed from then on (a committee
/// scores it). A round finalized with no participants must keep its start model.
interface IFLTask {
    /// @notice Where a round is in its life: `None` (not opened yet), `Open` (taking commitments
    /// until its commit phase closes), `Finalized` (its global model and participants recorded).
    enum RoundState {
        None,
        Open,
        Finalized
    }

    /// @notice Why a signed commitment in a batch was not recorded.
    enum CommitRejection {
        None,
        UnknownClient,
        NotSelected,
        AlreadyCommitted,
        ZeroHash,
        BadSignature,
        CommitsClosed
    }

    /// @notice The task was created by `aggregator` for the experiment whose config hashes to
    /// `configHash`, with the deployer's random `salt`; `experimentId` = keccak256(abi.encode(configHash, salt)).
    event TaskCreated(address indexed aggregator, bytes32 configHash, bytes32 salt, bytes32 experimentId);
    /// @notice `client` registered and was given `clientId`.
    event ClientRegistered(address indexed client, uint256 indexed clientId);
    /// @notice Round `round` opened on the global model `globalModelHash` for the clients in `selected`.
    event RoundOpened(uint256 indexed round, bytes32 globalModelHash, uint256[] selected);
    /// @notice Client `clientId` (account `client`) committed the update whose artifact hashes to `updateHash`.
    event UpdateCommitted(uint256 indexed round, address indexed client, uint256 clientId, bytes32 updateHash);
    /// @notice The commit phase of round `round` ended with `commitCount` commitments recorded.
    event CommitsClosed(uint256 indexed round, uint256 commitCount);
    /// @notice A signed commitment of a batch was not recorded, for `reason`.
    event CommitRejected(uint256 indexed round, uint256 indexed clientId, CommitRejection reason);
    /// @notice Round `round` was finalized: `globalModelHash` aggregates the updates of `participants`
    /// with `weights` (one per participant, ascending id) under the aggregation rule `ruleHash`.
    event RoundFinalized(
        uint256 indexed round, bytes32 globalModelHash, uint256[] participants, uint256[] weights, bytes32 ruleHash
    );

    error NotAggregator(address caller);
    error AlreadyRegistered(address client);
    error BadRegistrationSignature(address client);
    error NotRegistered(address account);
    error UnknownClientId(uint256 clientId);
    error UnexpectedRound(uint256 expected, uint256 given);
    error RoundNotOpen(uint256 round);
    error RoundAlreadyFinalized(uint256 round);
    error PreviousRoundNotFinalized(uint256 round);
    error NotSelected(uint256 round, address client);
    error AlreadyCommitted(uint256 round, address client);
    error NotCommitted(uint256 round, uint256 clientId);
    error LengthMismatch(uint256 expected, uint256 given);
    error ZeroWeight(uint256 clientId);
    error EmptySet();
    error ZeroHash();
    error RoundsAlreadyStarted();
    error RegistrationClosed();
    error CommitsAlreadyClosed(uint256 round);
    error ModelChangedWithoutParticipants(uint256 round, bytes32 startModelHash, bytes32 globalModelHash);

    /// @notice `hook` will be called at the end of every finalization.
    event RoundHookAdded(address indexed hook);

    /// @notice Call `hook` at the end of every `finalizeRound` (after the hooks added before it).
    /// @dev Only the aggregator, and only before the first round is opened, so that the rules a
    /// round is finalized under are fixed before any client trains.
    function addRoundHook(IRoundHook hook) external;

    /// @notice Register the caller as a client of this task.
    /// @dev Only before round 1 opens (`RegistrationClosed` after).
    /// @return clientId the caller's new 1-based id
    function register() external returns (uint256 clientId);

    /// @notice Register many clients, each of which signed `Register(experimentId, client)` for this task.
    /// @dev Only the aggregator, only before round 1 opens. Reverts if any account is registered
    /// already or its signature is wrong.
    /// @return registered how many clients were registered (all of them)
    function registerBatch(address[] calldata accounts, bytes[] calldata signatures)
        external
        returns (uint256 registered);

    /// @notice Open round `round` (one more than the last) on the global model `globalModelHash`.
    /// @dev Only the aggregator; the previous round must be finalized.
    /// @param selected bitmap of the client ids that may commit to this round
    function openRound(uint256 round, bytes32 globalModelHash, uint256[] calldata selected) external;

    /// @notice Commit, from the client's own account, the hash of its update for the open round `round`.
    /// @dev Only while the round's commit phase is open (`CommitsAlreadyClosed` after).
    function commitUpdate(uint256 round, bytes32 updateHash) external;

    /// @notice Record many clients' signed commitments for the open round `round` in one transaction.
    /// @dev Only the aggregator. An entry that fails a check is skipped with a `CommitRejected`
    /// event, so one bad client cannot block the honest ones; after the commit phase closed, every
    /// entry is rejected with `CommitsClosed`.
    /// @param clientIds the committing clients
    /// @param updateHashes each client's update hash
    /// @param signatures each client's 65-byte EIP-712 signature of `Commit(experimentId, round, updateHash)`
    /// @return accepted how many entries were recorded
    function commitBatch(
        uint256 round,
        uint256[] calldata clientIds,
        bytes32[] calldata updateHashes,
        bytes[] calldata signatures
    ) external returns (uint256 accepted);

    /// @notice End the commit phase of the open round `round`: its committed set is fixed from now on.
    /// @dev Only the aggregator, once per round. `finalizeRound` does it implicitly.
    function closeCommits(uint256 round) external;

    /// @notice Finalize the open round `round` with the new global model hash.
    /// @dev Only the aggregator; every participant must have committed to this round. Closes the
    /// commit phase if it is still open. With no participants, `globalModelHash` must be the
    /// round's start model (`ModelChangedWithoutParticipants` otherwise).
    /// @param participants bitmap of the client ids whose updates were aggregated
    /// @param weights the aggregation weight of each participant, in ascending id order
    /// @param ruleHash keccak-256 of the aggregation rule: algorithm id and its parameters
    function finalizeRound(
        uint256 round,
        bytes32 globalModelHash,
        uint256[] calldata participants,
        uint256[] calldata weights,
        bytes32 ruleHash
    ) external;

    /// @notice The account that opens and finalizes rounds.
    function aggregator() external view returns (address);

    /// @notice keccak-256 of the canonical experiment config.
    function configHash() external view returns (bytes32);

    /// @notice The 32 random bytes the deployer chose for this run.
    function salt() external view returns (bytes32);

    /// @notice The last round opened (0 before the first).
    function currentRound() external view returns (uint256);

    /// @notice The id of a registered client (0 for an account that is not registered).
    function clientId(address account) external view returns (uint256);

    /// @notice Number of registered clients.
    function clientCount() external view returns (uint256);

    /// @notice The account of client `id` (1-based).
    function clientAt(uint256 id) external view returns (address);

    /// @notice The state, counts and model hashes of round `round`.
    /// @return state where the round is (`None` for a round not opened yet)
    /// @return startModelHash the global model the round was opened on
    /// @return finalModelHash the global model it was finalized with (0 until then)
    /// @return selectedCount how many clients were selected for it
    /// @return commitCount how many of them committed an update
    /// @return participantCount how many updates were aggregated (0 until finalized)
    function roundInfo(uint256 round)
        external
        view
        returns (
            RoundState state,
            bytes32 startModelHash,
            bytes32 finalModelHash,
            uint256 selectedCount,
            uint256 commitCount,
            uint256 participantCount
        );

    /// @notice keccak-256 of the packed weights and the rule hash that round `round` was finalized
    /// with (both 0 until then).
    function roundRule(uint256 round) external view returns (bytes32 weightsHash, bytes32 ruleHash);

    /// @notice The hash chain over round `round`'s commitments, in commit order:
    /// d_0 = 0, d_k = keccak256(abi.encodePacked(d_{k-1}, clientId_k, updateHash_k)).
    function roundCommitDigest(uint256 round) external view returns (bytes32);

    /// @notice Bitmap of the clients selected for `round`.
    function selectedOf(uint256 round) external view returns (uint256[] memory);

    /// @notice Bitmap of the clients aggregated into `round` (empty until it is finalized).
    function participantsOf(uint256 round) external view returns (uint256[] memory);

    /// @notice Whether client `id` committed an update to `round`.
    function hasCommitted(uint256 round, uint256 id) external view returns (bool);

    /// @notice Bitmap of the clients that committed to `round` (fixed once its commit phase closed).
    function committedOf(uint256 round) external view returns (uint256[] memory words);

    /// @notice Whether round `round` is open and still takes commitments.
    function commitsOpen(uint256 round) external view returns (bool);

    /// @notice Whether clients may still register (until round 1 opens).
    function registrationOpen() external view returns (bool);

    /// @notice keccak256(abi.encode(configHash, salt)): the experiment every client signature is bound to.
    function experimentId() external view returns (bytes32);
}
