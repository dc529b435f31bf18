// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IFLTask} from "../interfaces/IFLTask.sol";
import {IRoundHook} from "../interfaces/IRoundHook.sol";
import {Bits} from "./libraries/Bits.sol";

/// @title FLTask — one federated learning experiment's rounds, committed on chain
/// @notice The aggregator (the deployer) records the hash of the task config and a random salt;
/// together they make the experiment id that every client signature carries, so a signature
/// made for one run is worthless to any other run, even one whose task sits at the same address
/// on a fresh chain with the same config. Clients register with their own keys until round 1
/// opens; the set of clients is fixed from then on. Each round runs the state machine
/// `None → Open → Finalized`: the aggregator opens it on the current global model for a selected
/// set of clients, each selected client commits the hash of its update (from its own account, or
/// signed with its own key and relayed in a batch) until the aggregator closes the commit phase
/// (`closeCommits`, or implicitly at finalize), and the aggregator finalizes it with the new
/// global model, the clients whose updates it aggregated (each of which must have committed),
/// their weights and the aggregation rule: enough to recompute the round. A round finalized
/// with no participants keeps its start model. Contracts added as round hooks before the first
/// round (a committee, a reward token) are called at the end of every finalization and may veto
/// it by reverting.
/// @dev Rounds are numbered 1, 2, ... and opened strictly in order. A commitment's hash lives in
/// its `UpdateCommitted` event; storage keeps, per round, the bitmap of clients that committed
/// and `commitDigest`, a hash chain over the (client id, update hash) pairs in commit order, so
/// the events can be checked against the contract's state. Keeping the hashes themselves out of
/// storage makes a commitment about 4x cheaper, which is what lets hundreds of clients commit
/// per round.
contract FLTask is IFLTask, EIP712 {
    struct Round {
        RoundState state;
        bool commitsClosed;
        uint32 selectedCount;
        uint32 commitCount;
        uint32 participantCount;
        bytes32 startModelHash;
        bytes32 finalModelHash;
        bytes32 weightsHash;
        bytes32 ruleHash;
        bytes32 commitDigest;
    }

    /// @dev The bitmap words a batch is working on: the committed word is written back to
    /// storage only when the batch moves to another word (one SSTORE per 256 clients instead of
    /// one per client), and the selected word is read once per word.
    struct Cursor {
        uint256 index;
        uint256 bits;
        uint256 selected;
        bytes32 digest;
        uint256 accepted;
    }

    /// @notice EIP-712 type of a client's signed commitment.
    bytes32 public constant COMMIT_TYPEHASH =
        keccak256("Commit(bytes32 experiment,uint256 round,bytes32 updateHash)");
    /// @notice EIP-712 type of a client's signed registration.
    bytes32 public constant REGISTER_TYPEHASH = keccak256("Register(bytes32 experiment,address client)");
    uint256 private constant NO_WORD = type(uint256).max;

    /// @notice The account that opens and finalizes rounds.
    address public immutable aggregator;
    /// @notice keccak-256 of the canonical experiment config.
    bytes32 public immutable configHash;
    /// @notice The 32 random bytes the deployer chose for this run.
    bytes32 public immutable salt;
    /// @notice keccak256(abi.encode(configHash, salt)): the experiment every client signature is bound to.
    bytes32 public immutable experimentId;
    /// @notice The last round opened (0 before the first).
    uint256 public currentRound;
    /// @notice The id of a registered client (0 for an account that is not registered).
    mapping(address => uint256) public clientId;

    address[] private _clients;
    mapping(uint256 => Round) private _rounds;
    mapping(uint256 => uint256[]) private _selected;
    mapping(uint256 => uint256[]) private _participants;
    mapping(uint256 => mapping(uint256 => uint256)) private _committed;
    IRoundHook[] private _roundHooks;

    modifier onlyAggregator() {
        if (msg.sender != aggregator) revert NotAggregator(msg.sender);
        _;
    }

    modifier whileRegistrationOpen() {
        if (currentRound != 0) revert RegistrationClosed();
        _;
    }

    /// @param taskConfigHash keccak-256 of the canonical experiment config
    /// @param taskSalt 32 random bytes chosen for this run (never zero), so that no two runs share an experiment id
    constructor(bytes32 taskConfigHash, bytes32 taskSalt) EIP712("OnChainFL", "1") {
        if (taskConfigHash == bytes32(0) || taskSalt == bytes32(0)) revert ZeroHash();
        bytes32 id = keccak256(abi.encode(taskConfigHash, taskSalt));
        aggregator = msg.sender;
        configHash = taskConfigHash;
        salt = taskSalt;
        experimentId = id;
        emit TaskCreated(msg.sender, taskConfigHash, taskSalt, id);
    }

    /// @inheritdoc IFLTask
    function addRoundHook(IRoundHook hook) external onlyAggregator {
        if (currentRound != 0) revert RoundsAlreadyStarted();
        _roundHooks.push(hook);
        emit RoundHookAdded(address(hook));
    }

    // --- registration ---------------------------------------------------------------------------

    /// @inheritdoc IFLTask
    function register() external whileRegistrationOpen returns (uint256 id) {
        if (clientId[msg.sender] != 0) revert AlreadyRegistered(msg.sender);
        return _register(msg.sender);
    }

    /// @inheritdoc IFLTask
    function registerBatch(address[] calldata accounts, bytes[] calldata signatures)
        external
        onlyAggregator
        whileRegistrationOpen
        returns (uint256 registered)
    {
        if (signatures.length != accounts.length) revert LengthMismatch(accounts.length, signatures.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            address account = accounts[i];
            if (clientId[account] != 0) revert AlreadyRegistered(account);
            bytes32 digest = registerDigest(account);
            if (!_signedBy(account, digest, signatures[i])) revert BadRegistrationSignature(account);
            _register(account);
        }
        return accounts.length;
    }

    // --- rounds ---------------------------------------------------------------------------------

    /// @inheritdoc IFLTask
    function openRound(uint256 round, bytes32 globalModelHash, uint256[] calldata selected)
        external
        onlyAggregator
    {
        uint256 last = currentRound;
        if (round != last + 1) revert UnexpectedRound(last + 1, round);
        if (last != 0 && _rounds[last].state != RoundState.Finalized) revert PreviousRoundNotFinalized(last);
        if (globalModelHash == bytes32(0)) revert ZeroHash();
        uint256 count = _checkedCount(selected);
        if (count == 0) revert EmptySet();

        currentRound = round;
        Round storage r = _rounds[round];
        r.state = RoundState.Open;
        r.selectedCount = uint32(count);
        r.startModelHash = globalModelHash;
        _selected[round] = selected;
        emit RoundOpened(round, globalModelHash, selected);
    }

    /// @inheritdoc IFLTask
    function commitUpdate(uint256 round, bytes32 updateHash) external {
        Round storage r = _openRound(round);
        if (r.commitsClosed) revert CommitsAlreadyClosed(round);
        uint256 id = clientId[msg.sender];
        if (id == 0) revert NotRegistered(msg.sender);
        Cursor memory cursor = _cursor(r);
        CommitRejection reason = _commitCheck(round, id, updateHash, cursor);
        if (reason == CommitRejection.NotSelected) revert NotSelected(round, msg.sender);
        if (reason == CommitRejection.AlreadyCommitted) revert AlreadyCommitted(round, msg.sender);
        if (reason == CommitRejection.ZeroHash) revert ZeroHash();

        _record(round, id, msg.sender, updateHash, cursor);
        _save(r, round, cursor);
    }

    /// @inheritdoc IFLTask
    function commitBatch(
        uint256 round,
        uint256[] calldata clientIds,
        bytes32[] calldata updateHashes,
        bytes[] calldata signatures
    ) external onlyAggregator returns (uint256 accepted) {
        Round storage r = _openRound(round);
        uint256 n = clientIds.length;
        if (updateHashes.length != n) revert LengthMismatch(n, updateHashes.length);
        if (signatures.length != n) revert LengthMismatch(n, signatures.length);

        if (r.commitsClosed) {
            for (uint256 i = 0; i < n; ++i) emit CommitRejected(round, clientIds[i], CommitRejection.CommitsClosed);
            return 0;
        }
        Cursor memory cursor = _cursor(r);
        for (uint256 i = 0; i < n; ++i) {
            CommitRejection reason = _commitSigned(round, clientIds[i], updateHashes[i], signatures[i], cursor);
            if (reason != CommitRejection.None) emit CommitRejected(round, clientIds[i], reason);
        }
        _save(r, round, cursor);
        return cursor.accepted;
    }

    /// @inheritdoc IFLTask
    function closeCommits(uint256 round) external onlyAggregator {
        Round storage r = _openRound(round);
        if (r.commitsClosed) revert CommitsAlreadyClosed(round);
        r.commitsClosed = true;
        emit CommitsClosed(round, r.commitCount);
    }

    /// @inheritdoc IFLTask
    function finalizeRound(
        uint256 round,
        bytes32 globalModelHash,
        uint256[] calldata participants,
        uint256[] calldata weights,
        bytes32 ruleHash
    ) external onlyAggregator {
        Round storage r = _rounds[round];
        if (r.state == RoundState.Finalized) revert RoundAlreadyFinalized(round);
        if (r.state != RoundState.Open) revert RoundNotOpen(round);
        if (globalModelHash == bytes32(0) || ruleHash == bytes32(0)) revert ZeroHash();
        uint256 count = _checkedCount(participants);
        if (weights.length != count) revert LengthMismatch(count, weights.length);
        if (count == 0 && globalModelHash != r.startModelHash) {
            revert ModelChangedWithoutParticipants(round, r.startModelHash, globalModelHash);
        }
        uint256 k = 0;
        for (uint256 w = 0; w < participants.length; ++w) {
            uint256 word = participants[w];
            uint256 uncommitted = word & ~_committed[round][w];
            if (uncommitted != 0) revert NotCommitted(round, w * 256 + Bits.lowestBit(uncommitted));
            for (; word != 0; word &= word - 1) {
                if (weights[k] == 0) revert ZeroWeight(w * 256 + Bits.lowestBit(word));
                ++k;
            }
        }

        if (!r.commitsClosed) {
            r.commitsClosed = true;
            emit CommitsClosed(round, r.commitCount);
        }
        r.state = RoundState.Finalized;
        r.participantCount = uint32(count);
        r.finalModelHash = globalModelHash;
        r.weightsHash = keccak256(abi.encodePacked(weights));
        r.ruleHash = ruleHash;
        _participants[round] = participants;
        emit RoundFinalized(round, globalModelHash, participants, weights, ruleHash);
        for (uint256 i = 0; i < _roundHooks.length; ++i) {
            _roundHooks[i].onRoundFinalized(round, participants, weights);
        }
    }

    // --- views ----------------------------------------------------------------------------------

    /// @notice The EIP-712 digest a client signs to commit `updateHash` to `round` of this task:
    /// the struct `Commit(bytes32 experiment,uint256 round,bytes32 updateHash)` with `experiment = experimentId`.
    function commitDigest(uint256 round, bytes32 updateHash) public view returns (bytes32) {
        return _hashTypedDataV4(_hash4(COMMIT_TYPEHASH, experimentId, bytes32(round), updateHash));
    }

    /// @notice The EIP-712 digest `client` signs to be registered by the aggregator:
    /// the struct `Register(bytes32 experiment,address client)` with `experiment = experimentId`.
    function registerDigest(address client) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REGISTER_TYPEHASH, experimentId, client)));
    }

    /// @inheritdoc IFLTask
    function commitsOpen(uint256 round) external view returns (bool) {
        Round storage r = _rounds[round];
        return r.state == RoundState.Open && !r.commitsClosed;
    }

    /// @inheritdoc IFLTask
    function registrationOpen() external view returns (bool) {
        return currentRound == 0;
    }

    /// @notice This task's EIP-712 domain separator (name "OnChainFL", version "1", chain id, address).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The contracts called at the end of every finalization, in call order.
    function roundHooks() external view returns (IRoundHook[] memory) {
        return _roundHooks;
    }

    /// @inheritdoc IFLTask
    function clientCount() external view returns (uint256) {
        return _clients.length;
    }

    /// @inheritdoc IFLTask
    function clientAt(uint256 id) external view returns (address) {
        if (id == 0 || id > _clients.length) revert UnknownClientId(id);
        return _clients[id - 1];
    }

    /// @inheritdoc IFLTask
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
        )
    {
        Round storage r = _rounds[round];
        return (r.state, r.startModelHash, r.finalModelHash, r.selectedCount, r.commitCount, r.participantCount);
    }

    /// @inheritdoc IFLTask
    function roundRule(uint256 round) external view returns (bytes32 weightsHash, bytes32 ruleHash) {
        Round storage r = _rounds[round];
        return (r.weightsHash, r.ruleHash);
    }

    /// @inheritdoc IFLTask
    function roundCommitDigest(uint256 round) external view returns (bytes32) {
        return _rounds[round].commitDigest;
    }

    /// @inheritdoc IFLTask
    function selectedOf(uint256 round) external view returns (uint256[] memory) {
        return _selected[round];
    }

    /// @inheritdoc IFLTask
    function hasCommitted(uint256 round, uint256 id) external view returns (bool) {
        return (_committed[round][id >> 8] >> (id & 255)) & 1 == 1;
    }

    /// @inheritdoc IFLTask
    function committedOf(uint256 round) external view returns (uint256[] memory words) {
        uint256 n = _selected[round].length;
        words = new uint256[](n);
        for (uint256 w = 0; w < n; ++w) words[w] = _committed[round][w];
    }

    /// @inheritdoc IFLTask
    function participantsOf(uint256 round) external view returns (uint256[] memory) {
        return _participants[round];
    }

    // --- internals ------------------------------------------------------------------------------

    function _register(address account) private returns (uint256 id) {
        _clients.push(account);
        id = _clients.length;
        clientId[account] = id;
        emit ClientRegistered(account, id);
    }

    function _openRound(uint256 round) private view returns (Round storage r) {
        r = _rounds[round];
        if (r.state != RoundState.Open) revert RoundNotOpen(round);
    }

    function _cursor(Round storage r) private view returns (Cursor memory) {
        return Cursor({index: NO_WORD, bits: 0, selected: 0, digest: r.commitDigest, accepted: 0});
    }

    /// @dev Point the cursor at the bitmap words holding `id`, writing back the previous committed word.
    function _seek(uint256 round, uint256 id, Cursor memory cursor) private {
        uint256 index = id >> 8;
        if (cursor.index == index) return;
        if (cursor.index != NO_WORD) _committed[round][cursor.index] = cursor.bits;
        cursor.index = index;
        cursor.bits = _committed[round][index];
        uint256[] storage selected = _selected[round];
        cursor.selected = index < selected.length ? selected[index] : 0;
    }

    function _save(Round storage r, uint256 round, Cursor memory cursor) private {
        if (cursor.index != NO_WORD) _committed[round][cursor.index] = cursor.bits;
        r.commitDigest = cursor.digest;
        r.commitCount += uint32(cursor.accepted);
    }

    /// @dev Why registered client `id` may not commit `updateHash` to the open round `round`.
    function _commitCheck(uint256 round, uint256 id, bytes32 updateHash, Cursor memory cursor)
        private
        returns (CommitRejection)
    {
        _seek(round, id, cursor);
        if ((cursor.selected >> (id & 255)) & 1 == 0) return CommitRejection.NotSelected;
        if ((cursor.bits >> (id & 255)) & 1 == 1) return CommitRejection.AlreadyCommitted;
        if (updateHash == bytes32(0)) return CommitRejection.ZeroHash;
        return CommitRejection.None;
    }

    /// @dev Record one signed commitment of a batch, or say why not.
    function _commitSigned(
        uint256 round,
        uint256 id,
        bytes32 updateHash,
        bytes calldata signature,
        Cursor memory cursor
    ) private returns (CommitRejection reason) {
        if (id == 0 || id > _clients.length) return CommitRejection.UnknownClient;
        reason = _commitCheck(round, id, updateHash, cursor);
        if (reason != CommitRejection.None) return reason;
        address client = _clients[id - 1];
        if (!_signedBy(client, commitDigest(round, updateHash), signature)) return CommitRejection.BadSignature;
        _record(round, id, client, updateHash, cursor);
    }

    function _record(uint256 round, uint256 id, address client, bytes32 updateHash, Cursor memory cursor) private {
        cursor.bits |= 1 << (id & 255);
        cursor.digest = _hash3(cursor.digest, bytes32(id), updateHash);
        ++cursor.accepted;
        emit UpdateCommitted(round, client, id, updateHash);
    }

    /// @dev Whether the 65-byte `signature` (r, s, v) is `signer`'s signature of `digest`.
    function _signedBy(address signer, bytes32 digest, bytes calldata signature) internal view virtual returns (bool) {
        if (signature.length != 65) return false;
        bytes32 r;
        bytes32 s;
        uint8 v;
        // read straight from calldata: no copy of each signature into memory
        assembly {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        (address recovered, ECDSA.RecoverError error) = ECDSA.tryRecover(digest, v, r, s);
        return error == ECDSA.RecoverError.NoError && recovered == signer;
    }

    /// @dev keccak256 of four words, in scratch memory: a batch's loop allocates nothing.
    function _hash4(bytes32 a, bytes32 b, bytes32 c, bytes32 d) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, a)
            mstore(add(ptr, 0x20), b)
            mstore(add(ptr, 0x40), c)
            mstore(add(ptr, 0x60), d)
            h := keccak256(ptr, 0x80)
        }
    }

    /// @dev keccak256 of three words, in scratch memory: a batch's loop allocates nothing.
    function _hash3(bytes32 a, bytes32 b, bytes32 c) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, a)
            mstore(add(ptr, 0x20), b)
            mstore(add(ptr, 0x40), c)
            h := keccak256(ptr, 0x60)
        }
    }

    /// @dev Number of ids in `set`; reverts on an id that is 0 or not registered.
    function _checkedCount(uint256[] calldata set) private view returns (uint256 count) {
        uint256 n = _clients.length;
        if (set.length > 0 && set[0] & 1 != 0) revert UnknownClientId(0);
        for (uint256 w = 0; w < set.length; ++w) {
            uint256 word = set[w];
            if (word == 0) continue;
            uint256 highest = w * 256 + Bits.highestBit(word);
            if (highest > n) revert UnknownClientId(highest);
            count += Bits.popcount(word);
        }
    }
}
