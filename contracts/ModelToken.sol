// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IFLTask} from "../interfaces/IFLTask.sol";
import {IModelToken} from "../interfaces/IModelToken.sol";
import {IWatermarkRegistry} from "../interfaces/IWatermarkRegistry.sol";
import {Bits} from "./libraries/Bits.sol";

/// @title ModelToken — tokenized federated models ("Tokenized Model", Li, Lai, Liao, Chen, Zheng, 2023)
/// @notice One ERC-721 per finalized round of a task, minted by that task's aggregator. Nothing in
/// a token is taken on the minter's word: the model hash is the one the task finalized, the
/// contributors and their weights are the task's participants and finalize-time weights (checked
/// against the recorded weights hashes), and the watermark commitments come from the registry the
/// token contract trusts. What it does take on trust is the task contract itself: its code is not
/// checked, so a token is worth what its task is (see IModelToken).
///
/// A token proves that the task at its `task` address finalized its model hash in its round with
/// those contributors. It does not prove that the task is the first or the only one to produce that
/// model: anyone may run a task of their own that finalizes the same hash, and gets a token of its
/// own, naming its own task and contributors, without affecting anyone else's. Tokens are
/// therefore keyed by (task, round), not by model hash, so nobody can claim a model hash first
/// and block its genuine mint. A buyer checks which task a token names (its address, its code, its
/// config hash), not merely the model hash.
/// @dev Every call to the task and the registry is to a view function (a STATICCALL: it cannot
/// change any state), and they all happen before the token's state is written; the only call
/// that may run foreign code with state access is `_safeMint`'s `onERC721Received`, made last,
/// when the round's token is already recorded (a re-entrant mint of the same round reverts
/// `AlreadyMinted`).
contract ModelToken is ERC721, IModelToken {
    /// @notice The highest royalty a token may carry: half of a resale price.
    uint256 public constant MAX_ROYALTY_BPS = 5000;

    struct Model {
        address task;
        uint64 round;
        uint16 royaltyBps;
        bytes32 modelHash;
        uint256 totalWeight;
    }

    struct Contributor {
        address account;
        uint256 weight;
        bytes32 watermark;
    }

    /// @notice Where the owners' watermark keys were negotiated.
    IWatermarkRegistry public immutable registry;
    /// @notice Tokens minted so far; token ids are 1, 2, ...
    uint256 public totalMinted;

    mapping(uint256 => Model) private _models;
    mapping(uint256 => Contributor[]) private _contributors;
    mapping(address => mapping(uint256 => uint256)) private _tokenOf;

    constructor(IWatermarkRegistry watermarkRegistry) ERC721("OnChainFL Model", "FLM") {
        registry = watermarkRegistry;
    }

    /// @inheritdoc IModelToken
    function mint(address task, uint256 round, uint256[][] calldata weights, uint256 royaltyBps)
        external
        returns (uint256 tokenId)
    {
        (bytes32 modelHash, Contributor[] memory contributors, uint256 total) =
            _checkedMint(task, round, weights, royaltyBps);

        tokenId = ++totalMinted;
        _tokenOf[task][round] = tokenId;
        _models[tokenId] = Model(task, uint64(round), uint16(royaltyBps), modelHash, total);
        Contributor[] storage stored = _contributors[tokenId];
        for (uint256 i = 0; i < contributors.length; ++i) {
            stored.push(contributors[i]);
        }
        emit ModelMinted(tokenId, task, round, modelHash, contributors.length, total, royaltyBps);

        _safeMint(msg.sender, tokenId); // the one interaction: onERC721Received of a contract aggregator
    }

    /// @inheritdoc IModelToken
    function modelOf(uint256 tokenId)
        external
        view
        returns (address task, uint256 round, bytes32 modelHash, uint256 totalWeight, uint256 royaltyBps)
    {
        _requireMinted(tokenId);
        Model storage m = _models[tokenId];
        return (m.task, m.round, m.modelHash, m.totalWeight, m.royaltyBps);
    }

    /// @inheritdoc IModelToken
    function contributorsOf(uint256 tokenId)
        external
        view
        returns (address[] memory accounts, uint256[] memory weights, bytes32[] memory watermarks)
    {
        _requireMinted(tokenId);
        Contributor[] storage c = _contributors[tokenId];
        accounts = new address[](c.length);
        weights = new uint256[](c.length);
        watermarks = new bytes32[](c.length);
        for (uint256 i = 0; i < c.length; ++i) {
            (accounts[i], weights[i], watermarks[i]) = (c[i].account, c[i].weight, c[i].watermark);
        }
    }

    /// @inheritdoc IModelToken
    function tokenOf(address task, uint256 round) external view returns (uint256) {
        uint256 tokenId = _tokenOf[task][round];
        if (tokenId == 0) revert NoToken(task, round);
        return tokenId;
    }

    /// @dev Every check of `mint`, reading the task and the registry only; returns the round's
    /// model hash, its contributors and their total weight.
    function _checkedMint(address task, uint256 round, uint256[][] calldata weights, uint256 royaltyBps)
        private
        view
        returns (bytes32 modelHash, Contributor[] memory contributors, uint256 total)
    {
        IFLTask fl = IFLTask(task);
        if (msg.sender != fl.aggregator()) revert NotTaskAggregator(task, msg.sender);
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
        uint256 existing = _tokenOf[task][round];
        if (existing != 0) revert AlreadyMinted(task, round, existing);
        IFLTask.RoundState state;
        bytes32 startModelHash;
        (state, startModelHash, modelHash,,,) = fl.roundInfo(round);
        if (state != IFLTask.RoundState.Finalized) revert RoundNotFinalized(task, round);
        if (modelHash == startModelHash) revert ModelUnchanged(task, round, modelHash);
        if (weights.length != round) revert LengthMismatch(round, weights.length);
        (contributors, total) = _contributorsOf(fl, _summedWeights(fl, weights));
        if (total == 0) revert NoContributors(task, round);
    }

    /// @dev Each client's weight summed over rounds 1..weights.length, indexed by client id;
    /// reverts unless every round's weights are the ones the task recorded at finalize (a round
    /// that was not finalized has no recorded weights hash, so it never matches).
    function _summedWeights(IFLTask fl, uint256[][] calldata weights) private view returns (uint256[] memory sums) {
        sums = new uint256[](fl.clientCount() + 1);
        for (uint256 r = 0; r < weights.length; ++r) {
            (bytes32 weightsHash,) = fl.roundRule(r + 1);
            if (keccak256(abi.encodePacked(weights[r])) != weightsHash) revert WeightsMismatch(r + 1);
            uint256[] memory participants = fl.participantsOf(r + 1);
            uint256 k = 0;
            for (uint256 w = 0; w < participants.length; ++w) {
                for (uint256 word = participants[w]; word != 0; word &= word - 1) {
                    if (k == weights[r].length) revert LengthMismatch(k + 1, weights[r].length);
                    sums[w * 256 + Bits.lowestBit(word)] += weights[r][k++];
                }
            }
            if (k != weights[r].length) revert LengthMismatch(k, weights[r].length);
        }
    }

    /// @dev The clients with a positive summed weight (ascending client id), with their watermark
    /// commitments, and the total weight.
    function _contributorsOf(IFLTask fl, uint256[] memory perClient)
        private
        view
        returns (Contributor[] memory contributors, uint256 total)
    {
        uint256 count = 0;
        for (uint256 id = 1; id < perClient.length; ++id) {
            if (perClient[id] != 0) ++count;
        }
        contributors = new Contributor[](count);
        uint256 k = 0;
        for (uint256 id = 1; id < perClient.length; ++id) {
            if (perClient[id] == 0) continue;
            address account = fl.clientAt(id);
            contributors[k++] = Contributor(account, perClient[id], registry.commitmentOf(address(fl), account));
            total += perClient[id];
        }
    }
}
