// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ICommittee} from "../interfaces/ICommittee.sol";
import {IFLTask} from "../interfaces/IFLTask.sol";
import {IRoundHook} from "../interfaces/IRoundHook.sol";
import {Bits} from "./libraries/Bits.sol";
import {ClientSet} from "./libraries/ClientSet.sol";
import {Sort} from "./libraries/Sort.sol";

/// @title Committee — CMFL's committee consensus for one FLTask, with its rules on chain
/// @notice Che, Li, Chen, He, Zheng, "A Decentralized Federated Learning Framework via Committee
/// Mechanism with Convergence Guarantee", IEEE TPDS 2022. The aggregator deploys it for its task
/// with the first committee and adds it as a round hook; from then on the committee of each
/// round is elected here, the members score the other clients' updates here, the selection of
/// the updates to aggregate is computed here, and the task cannot be finalized with any other
/// set of participants. See ICommittee for the exact rules.
/// @dev Scoring starts once the task closed the round's commit phase, so the candidates (the
/// round's committed set) are fixed: score vectors, medians and every loop of the tally are
/// sized by that set, never by the number of registered clients.
contract Committee is ICommittee, IRoundHook {
    using ClientSet for uint256[];
    using Sort for uint256[];
    using Sort for uint32[];

    uint256 private constant BPS = 10_000;

    IFLTask private immutable _task;
    /// @notice Members per committee.
    uint256 public immutable size;
    /// @notice Which updates the selection keeps: the highest or the lowest median scores.
    Strategy public immutable strategy;
    /// @notice Share of the eligible updates selected, in basis points.
    uint256 public immutable selectBps;

    mapping(uint256 => uint256[]) private _members;
    mapping(uint256 => mapping(uint256 => uint32[])) private _scores;
    mapping(uint256 => uint256[]) private _scorers;
    mapping(uint256 => bool) private _tallied;
    mapping(uint256 => uint32[]) private _medians;
    mapping(uint256 => uint256[]) private _selected;

    /// @param task_ the task whose rounds this committee rules
    /// @param size_ members per committee
    /// @param strategy_ the selection strategy
    /// @param selectBps_ share of the eligible updates selected each round, in basis points (1..10000)
    /// @param firstCommittee the committee of round 1: `size_` registered client ids, ascending
    constructor(IFLTask task_, uint256 size_, Strategy strategy_, uint256 selectBps_, uint256[] memory firstCommittee) {
        if (size_ == 0 || selectBps_ == 0 || selectBps_ > BPS || firstCommittee.length != size_) {
            revert InvalidCommittee(firstCommittee.length, selectBps_);
        }
        uint256 clients = task_.clientCount();
        for (uint256 i = 0; i < firstCommittee.length; ++i) {
            uint256 id = firstCommittee[i];
            if (id == 0 || id > clients || (i > 0 && id <= firstCommittee[i - 1])) revert InvalidMember(id);
        }
        _task = task_;
        size = size_;
        strategy = strategy_;
        selectBps = selectBps_;
        _members[1] = firstCommittee;
        emit CommitteeElected(1, firstCommittee);
    }

    /// @inheritdoc ICommittee
    function submitScores(uint256 round, uint32[] calldata scores) external {
        uint256 id = _task.clientId(msg.sender);
        if (id == 0 || !_members[round].has(id)) revert NotCommitteeMember(round, msg.sender);
        if (round != _task.currentRound()) revert RoundNotScoring(round);
        if (_tallied[round]) revert AlreadyTallied(round);
        if (_task.commitsOpen(round)) revert CommitsStillOpen(round);
        if (_scores[round][id].length != 0) revert AlreadyScored(round, id);
        uint256 committed = _task.committedOf(round).count();
        if (scores.length != committed) revert ScoreCountMismatch(committed, scores.length);

        _scores[round][id] = scores;
        _scorers[round].push(id);
        emit ScoresSubmitted(round, id, scores);
    }

    /// @inheritdoc ICommittee
    function tally(uint256 round) external {
        if (_tallied[round]) revert AlreadyTallied(round);
        if (round == 0 || round != _task.currentRound()) revert RoundNotScoring(round);
        if (_task.commitsOpen(round)) revert CommitsStillOpen(round);
        uint256[] memory members = _members[round];
        uint256 scored = _scorers[round].length;
        if (scored < members.length) {
            if (msg.sender != _task.aggregator()) revert ScoringIncomplete(round, scored, members.length);
            if (scored * 2 <= members.length) revert NoQuorum(round, scored, members.length / 2 + 1);
        }
        uint256[] memory candidates = _task.committedOf(round);
        (uint32[] memory medians, uint256[] memory eligible, uint32[] memory byId) =
            _medianScores(round, members, candidates.toIds());
        uint256[] memory byHighest = _ranked(eligible, byId, false);
        uint256[] memory selection = _take(strategy == Strategy.Robust ? byHighest : _ranked(eligible, byId, true),
            eligible.length == 0 ? 0 : _max(1, eligible.length * selectBps / BPS));
        uint256[] memory next = _elect(byHighest, members);

        _tallied[round] = true;
        _medians[round] = medians;
        uint256[] memory selected = selection.toWords();
        _selected[round] = selected;
        _members[round + 1] = next;
        emit RoundTallied(round, selected, medians);
        emit CommitteeElected(round + 1, next);
    }

    /// @notice Refuse to let the task finalize `round` with any participants but the selected ones.
    function onRoundFinalized(uint256 round, uint256[] calldata participants, uint256[] calldata)
        external
        view
        virtual
    {
        if (msg.sender != address(_task)) revert NotTask(msg.sender);
        if (!_tallied[round]) revert NotTallied(round);
        if (!participants.equal(_selected[round])) revert SelectionMismatch(round);
    }

    /// @inheritdoc ICommittee
    function task() external view returns (address) {
        return address(_task);
    }

    /// @inheritdoc ICommittee
    function membersOf(uint256 round) external view returns (uint256[] memory) {
        return _members[round];
    }

    /// @inheritdoc ICommittee
    function scorersOf(uint256 round) external view returns (uint256[] memory) {
        return _scorers[round];
    }

    /// @inheritdoc ICommittee
    function scoresOf(uint256 round, uint256 memberId) external view returns (uint32[] memory) {
        return _scores[round][memberId];
    }

    /// @inheritdoc ICommittee
    function medianScore(uint256 round, uint256 id) external view returns (uint256) {
        if (!_tallied[round]) return 0;
        uint256[] memory scored = _task.committedOf(round);
        uint256 w = id >> 8;
        if (w >= scored.length || (scored[w] >> (id & 255)) & 1 == 0) return 0;
        uint256 position = Bits.popcount(scored[w] & ((1 << (id & 255)) - 1));
        for (uint256 i = 0; i < w; ++i) position += Bits.popcount(scored[i]);
        return _medians[round][position];
    }

    /// @inheritdoc ICommittee
    function mediansOf(uint256 round) external view returns (uint32[] memory) {
        return _medians[round];
    }

    /// @inheritdoc ICommittee
    function scoredOf(uint256 round) external view returns (uint256[] memory) {
        // the task's committed set is fixed once its commits are closed, which the tally required
        return _tallied[round] ? _task.committedOf(round) : new uint256[](0);
    }

    /// @inheritdoc ICommittee
    function selectedOf(uint256 round) external view returns (uint256[] memory) {
        return _selected[round];
    }

    /// @inheritdoc ICommittee
    function isTallied(uint256 round) external view returns (bool) {
        return _tallied[round];
    }

    /// @dev Each committed client's median score over the members who scored (`medians[k]` for
    /// `ids[k]`; 0 for members), the eligible ids (ascending), and the medians by id
    /// (`byId[id - 1]`, as long as the highest committed id) for ranking.
    function _medianScores(uint256 round, uint256[] memory members, uint256[] memory ids)
        private
        view
        returns (uint32[] memory medians, uint256[] memory eligible, uint32[] memory byId)
    {
        uint256[] memory scorers = _scorers[round];
        uint32[][] memory table = new uint32[][](scorers.length);
        for (uint256 j = 0; j < scorers.length; ++j) {
            table[j] = _scores[round][scorers[j]];
        }
        uint256 n = ids.length;
        medians = new uint32[](n);
        eligible = new uint256[](n);
        byId = new uint32[](n == 0 ? 0 : ids[n - 1]);
        uint256 count = 0;
        uint32[] memory column = new uint32[](scorers.length);
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = ids[k];
            if (members.has(id)) continue;
            for (uint256 j = 0; j < scorers.length; ++j) column[j] = table[j][k];
            uint32 median = _median(column);
            medians[k] = median;
            byId[id - 1] = median;
            if (median > 0) eligible[count++] = id;
        }
        assembly {
            mstore(eligible, count)
        }
    }

    /// @dev The median of `values` (sorted in place); of an even count, the floor of the mean of the middle two.
    function _median(uint32[] memory values) private pure returns (uint32) {
        values.sort();
        uint256 n = values.length;
        if (n % 2 == 1) return values[n / 2];
        return uint32((uint256(values[n / 2 - 1]) + uint256(values[n / 2])) / 2);
    }

    /// @dev `ids` ordered by median score (lowest first if `ascending`, else highest first), ties to the lower id.
    function _ranked(uint256[] memory ids, uint32[] memory medians, bool ascending)
        private
        pure
        returns (uint256[] memory order)
    {
        order = new uint256[](ids.length);
        uint256[] memory keys = new uint256[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            order[i] = ids[i];
            keys[i] = medians[ids[i] - 1];
        }
        order.sortByKey(keys, !ascending);
    }

    /// @dev The next committee: the best-ranked eligible clients, topped up from `current`; ascending.
    function _elect(uint256[] memory byHighest, uint256[] memory current) private view returns (uint256[] memory next) {
        next = new uint256[](size);
        uint256 n = 0;
        for (uint256 i = 0; i < byHighest.length && n < size; ++i) next[n++] = byHighest[i];
        for (uint256 i = 0; i < current.length && n < size; ++i) next[n++] = current[i];
        next.sort();
    }

    function _take(uint256[] memory ids, uint256 count) private pure returns (uint256[] memory out) {
        out = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) out[i] = ids[i];
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }
}
